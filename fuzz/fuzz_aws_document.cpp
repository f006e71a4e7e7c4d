// The vmfix.aws-import/1 document `vmfix aws-import` runs: JSON of any shape is the document or
// one error naming the file, never an exception from the JSON library. Properties: what is read
// is what aws-import needs, of the types it uses.
#include <string_view>

#include "fuzz/properties.h"
#include "remediate/import_document.h"
#include "support/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmfix;
  try {
    const remediate::ImportDocument document =
        remediate::parse_import_document(std::string_view(reinterpret_cast<const char*>(data), size), "job.json");
    const bool image = document.route == "import-image";
    fuzz::require(image || document.route == "import-snapshot", "aws document: a route of its own", document.route);
    fuzz::require(image ? document.import_image.is_object() : document.register_image.is_object(),
                  "aws document: the route's request is an object");
    fuzz::require(image || !document.import_snapshot.empty(), "aws document: import-snapshot without requests");
    for (const auto& request : document.import_snapshot)
      fuzz::require(request.is_object(), "aws document: an import-snapshot request that is no object");
    for (const auto& upload : document.uploads)
      fuzz::require(upload.url.starts_with("s3://"), "aws document: an upload not to S3", upload.url);
  } catch (const Error& e) {
    fuzz::require(std::string_view(e.what()).starts_with("job.json: "), "aws document: an error not naming the file",
                  e.what());
  }
  return 0;
}
