#pragma once
// The vmfix.aws-import/1 document `vmfix aws-import` runs (vmfix --aws-import-json writes it),
// read apart from running it: a library of its own, so its fuzz target builds without the rest
// of vmfix.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::remediate {

// A vmfix.aws-import/1 document as aws-import runs it, every member it uses of the type it uses.
struct ImportDocument {
  struct Upload {
    std::string file;
    std::string url;  // s3://BUCKET/KEY
  };
  std::string route;  // "import-image" or "import-snapshot"
  std::vector<Upload> uploads;
  nlohmann::json import_image;                  // the import-image request (an object)
  std::vector<nlohmann::json> import_snapshot;  // one import-snapshot request (an object) per disk
  nlohmann::json register_image;                // the register-image request, {{snapshot-id:N}} in it
};

// The document in `text` (from the file `where`), checked before anything is uploaded: JSON of
// any shape or nesting is either this or one BadInput naming `where`.
ImportDocument parse_import_document(std::string_view text, const std::string& where);

}  // namespace vmfix::remediate
