#include "remediate/import_document.h"

#include <fmt/core.h>

#include "support/error.h"
#include "support/json.h"
#include "support/text.h"

namespace vmfix::remediate {

using nlohmann::json;

namespace {

// `object`'s member `key`; null when `object` is no object or has no such member.
const json& member_of(const json& object, const char* key) {
  static const json none;
  if (!object.is_object()) return none;
  const auto it = object.find(key);
  return it == object.end() ? none : *it;
}

}  // namespace

ImportDocument parse_import_document(std::string_view text, const std::string& where) {
  auto bad = [&](const std::string& why) { return BadInput(fmt::format("{}: {}", where, why)); };
  json document;
  try {
    document = parse_untrusted_json(text);
  } catch (const json::exception& e) {
    throw bad(fmt::format("not JSON: {}", e.what()));
  }
  // Members are compared and tested for their type, never converted: a value of another type
  // is this document's fault, not an exception from the JSON library.
  auto member = [&](const char* key) -> const json& { return member_of(document, key); };
  if (!document.is_object() || member("schema") != "vmfix.aws-import/1")
    throw bad("not a vmfix.aws-import/1 document (write one with --aws-import-json)");
  ImportDocument parsed;
  const json& route = member("route");
  if (route != "import-image" && route != "import-snapshot") throw bad("route must be import-image or import-snapshot");
  parsed.route = route.get<std::string>();
  if (const json& problems = member("problems"); !problems.is_null()) {
    if (!problems.is_array()) throw bad("problems must be a list");
    if (!problems.empty())
      throw bad(fmt::format("it cannot be run as it is: {}",
                            problems.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 400)));
  }
  const json& upload = member("upload");
  if (!upload.is_array()) throw bad("no upload list");
  for (const json& entry : upload) {
    const json &file = member_of(entry, "file"), &url = member_of(entry, "url");
    if (!file.is_string() || !url.is_string()) throw bad("each upload is an object with a file and a url");
    ImportDocument::Upload next{file.get<std::string>(), url.get<std::string>()};
    if (!is_s3_url(next.url)) throw bad(fmt::format("{} is not an s3:// URL", one_line(next.url)));
    if (next.url.find("{{s3-bucket}}") != std::string::npos)
      throw bad("no bucket: write the document with --s3 s3://BUCKET/");
    parsed.uploads.push_back(std::move(next));
  }
  if (parsed.route == "import-image") {
    parsed.import_image = member("import_image");
    if (!parsed.import_image.is_object()) throw bad("the import-image route needs import_image, an object");
  } else {
    const json& requests = member("import_snapshot");
    parsed.register_image = member("register_image");
    if (!requests.is_array() || requests.empty() || !parsed.register_image.is_object())
      throw bad("the import-snapshot route needs import_snapshot, a list, and register_image, an object");
    for (const json& request : requests) {
      if (!request.is_object()) throw bad("each import_snapshot request is an object");
      parsed.import_snapshot.push_back(request);
    }
  }
  return parsed;
}

}  // namespace vmfix::remediate
