// The vmfix.aws-import/1 document `vmfix aws-import` runs: JSON of any shape is the document or
// one line naming the file (a BadInput), never an exception from the JSON library. Properties:
// what is read is what aws-import needs, of the types it uses.
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
    for (const auto& upload : document.uploads) {
      fuzz::require(upload.url.starts_with("s3://"), "aws document: an upload not to S3", upload.url);
      fuzz::require(upload.url.find("{{s3-bucket}}") == std::string::npos, "aws document: no bucket", upload.url);
    }
  } catch (const BadInput& e) {  // nothing else: any other exception is a finding
    const std::string_view message = e.what();
    fuzz::require(message.starts_with("job.json: "), "aws document: an error not naming the file", message);
    fuzz::require(message.find_first_of("\r\n") == std::string_view::npos, "aws document: an error of two lines",
                  message);
  }
  return 0;
}
