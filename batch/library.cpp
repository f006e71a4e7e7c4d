#include "batch/library.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "image/output.h"
#include "image/ovf.h"
#include "image/vmdk.h"
#include "support/error.h"
#include "support/files.h"
#include "support/json.h"
#include "support/text.h"

namespace vmfix::batch {
namespace fs = std::filesystem;

namespace {

// A manifest's output_format is one vmfix writes, told when the manifest is read.
void check_format(const ImageOptions& options, const std::string& where) {
  if (!options.output_format) return;
  try {
    image::output_format_named(*options.output_format);
  } catch (const UsageError& e) {
    throw BadInput(fmt::format("{}: {}", where, one_line(e.what())));
  }
}

const std::set<std::string> kImageExtensions{".img", ".raw", ".qcow2", ".vmdk", ".vhd", ".vhdx", ".ova", ".ovf"};

enum class Kind { none, image, ovf, descriptor };

// The first 4 KiB of a file and its last 512 bytes (where a fixed VHD keeps its footer).
struct Glance {
  std::string head, tail;
  bool at(size_t offset, std::string_view magic) const {
    return head.size() >= offset + magic.size() && head.compare(offset, magic.size(), magic) == 0;
  }
  bool vhd_footer() const { return tail.compare(0, 8, "conectix") == 0; }
};

std::optional<Glance> glance(const fs::path& file) {
  try {
    Glance g{read_host_bytes(file, 0, 4096), ""};
    const uint64_t size = fs::file_size(file);
    if (size >= 512) g.tail = read_host_bytes(file, size - 512, 512);
    return g;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Kind sniff(const fs::path& file) {
  const bool named_like_one = kImageExtensions.contains(to_lower(file.extension().string()));
  const auto g = glance(file);
  if (!g) return named_like_one ? Kind::image : Kind::none;
  if (g->at(257, "ustar") || g->at(0, "QFI\xfb") || g->at(0, "KDMV") || g->at(0, "conectix") || g->at(0, "vhdxfile") ||
      g->vhd_footer())
    return Kind::image;
  if (g->head.find("# Disk DescriptorFile") != std::string::npos) return Kind::descriptor;
  if (g->head.find("<Envelope") != std::string::npos || g->head.find(":Envelope") != std::string::npos)
    return Kind::ovf;
  return named_like_one ? Kind::image : Kind::none;
}

// The files an OVF or a VMDK descriptor reads beside it; unreadable ones own nothing (and fail
// when processed).
std::vector<fs::path> owned_files(const fs::path& file, Kind kind) {
  std::vector<fs::path> owned;
  try {
    const std::string text = read_host_bytes(file, 0, 16 << 20);
    if (kind == Kind::ovf) {
      for (const image::OvfFile& ref : image::parse_ovf(text, file.string()).files)
        owned.push_back(file.parent_path() / ref.href);
      fs::path manifest = file;
      owned.push_back(manifest.replace_extension(".mf"));
    } else {
      for (const image::VmdkExtent& extent : image::parse_vmdk_descriptor(text).extents)
        owned.push_back(file.parent_path() / extent.file);
    }
  } catch (const Error&) {
  }
  return owned;
}

std::string key_hash(const std::string& key) { return fmt::format("{:08x}", fnv1a64(key) & 0xffffffffu); }

// The key flattened into one file name; a long one is cut and made unique by a hash of the key.
std::string name_for(const std::string& key) {
  fs::path path(key);
  std::string name = (path.parent_path() / path.stem()).string();
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  if (name.size() > 120) name = name.substr(0, 110) + "-" + key_hash(key);
  return name;
}

// Keys that flatten to one name each add their key's hash, so an added image never takes over
// another's outputs; images whose names still clash (a key spelling out a hashed name) are refused.
void make_names_unique(std::vector<LibraryImage>& images, const std::string& where) {
  std::map<std::string, int> uses;
  for (const LibraryImage& image : images) ++uses[image.name];
  for (LibraryImage& image : images)
    if (uses[image.name] > 1) image.name += "-" + key_hash(image.key);
  std::map<std::string, const LibraryImage*> owner;
  for (const LibraryImage& image : images)
    if (const auto [at, added] = owner.emplace(image.name, &image); !added)
      throw BadInput(fmt::format("{}: '{}' and '{}' would both be written as {}; rename one", where,
                                 one_line(at->second->key), one_line(image.key), image.name));
}

std::optional<bool> as_bool(const std::string& text, const std::string& where) {
  const std::string value = to_lower(trim(text));
  if (value.empty()) return std::nullopt;
  if (value == "true" || value == "yes" || value == "1") return true;
  if (value == "false" || value == "no" || value == "0") return false;
  throw BadInput(fmt::format("{}: '{}' is not true or false", where, one_line(text)));
}

std::optional<std::string> as_text(const std::string& text) {
  std::string value(trim(text));
  if (value.empty()) return std::nullopt;
  return value;
}

// One CSV line: commas, double quotes around fields that hold them ("" is a quote). A field
// cannot span lines: a quote left open is refused, rather than the next line read as an entry.
std::vector<std::string> csv_fields(std::string_view line, const std::string& location) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        fields.back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        fields.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted) throw BadInput(fmt::format("{}: a quoted field that does not end on its line", location));
  return fields;
}

// The image a manifest lists at `location` ("list.csv:4", "list.json: entry 2"). A path with a
// control character is refused: a NUL would cut it short where the system reads it.
LibraryImage listed(const fs::path& manifest, const std::string& entry, ImageOptions options,
                    const std::string& location) {
  if (entry.empty()) throw BadInput(fmt::format("{}: an entry without an image path", location));
  if (std::any_of(entry.begin(), entry.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    throw BadInput(fmt::format("{}: an image path with a control character", location));
  check_format(options, location);
  fs::path path = fs::path(entry).is_absolute() ? fs::path(entry) : manifest.parent_path() / entry;
  return {fs::absolute(path).lexically_normal(), entry, name_for(entry), std::move(options), location};
}

// A JSON manifest: a list of paths, or of objects with "image" and per-image settings.
std::vector<LibraryImage> json_manifest(std::string_view text, const fs::path& manifest) {
  const std::string where = manifest.string();
  nlohmann::json list;
  try {
    list = parse_untrusted_json(text);
  } catch (const nlohmann::json::exception& e) {
    throw BadInput(fmt::format("{}: malformed JSON: {}", where, e.what()));
  }
  std::vector<LibraryImage> images;
  for (const auto& entry : list) {
    const std::string location = fmt::format("{}: entry {}", where, images.size() + 1);
    if (entry.is_string()) {
      images.push_back(listed(manifest, entry.get<std::string>(), {}, location));
      continue;
    }
    if (!entry.is_object() || !entry.contains("image") || !entry["image"].is_string())
      throw BadInput(fmt::format("{}: each entry is a path or an object with \"image\"", location));
    ImageOptions options;
    try {
      if (entry.contains("output_format")) options.output_format = entry["output_format"].get<std::string>();
      if (entry.contains("profile")) options.profile = entry["profile"].get<std::string>();
      if (entry.contains("fix")) options.fix = entry["fix"].get<std::string>();
      if (entry.contains("skip")) options.skip = entry["skip"].get<std::string>();
      if (entry.contains("force")) options.force = entry["force"].get<bool>();
    } catch (const nlohmann::json::exception& e) {
      throw BadInput(fmt::format("{}: {}", location, e.what()));
    }
    images.push_back(listed(manifest, entry["image"].get<std::string>(), options, location));
  }
  return images;
}

// A CSV manifest: a header row naming the columns ("image" required; blank lines before it are
// skipped), then a row per image.
std::vector<LibraryImage> csv_manifest(std::string_view text, const fs::path& manifest) {
  const std::string where = manifest.string();
  const auto lines = split_lines(text);
  const size_t header_line = static_cast<size_t>(
      std::find_if(lines.begin(), lines.end(), [](std::string_view line) { return !trim(line).empty(); }) -
      lines.begin());
  const auto header = csv_fields(lines[header_line], fmt::format("{}:{}", where, header_line + 1));
  auto column = [&](const char* name) -> int {
    for (size_t i = 0; i < header.size(); ++i)
      if (to_lower(trim(header[i])) == name) return static_cast<int>(i);
    return -1;
  };
  if (column("image") < 0) throw BadInput(fmt::format("{}: the CSV header has no 'image' column", where));
  std::vector<LibraryImage> images;
  for (size_t n = header_line + 1; n < lines.size(); ++n) {
    if (trim(lines[n]).empty()) continue;
    const std::string location = fmt::format("{}:{}", where, n + 1);
    const auto fields = csv_fields(lines[n], location);
    auto field = [&](const char* name) -> std::string {
      const int i = column(name);
      return i >= 0 && static_cast<size_t>(i) < fields.size() ? fields[static_cast<size_t>(i)] : "";
    };
    ImageOptions options{as_text(field("output_format")), as_text(field("profile")), as_text(field("fix")),
                         as_text(field("skip")), as_bool(field("force"), location)};
    images.push_back(listed(manifest, std::string(trim(field("image"))), options, location));
  }
  return images;
}

}  // namespace

std::vector<LibraryImage> scan_directory(const fs::path& directory, const fs::path& exclude) {
  if (!fs::is_directory(directory)) throw BadInput(fmt::format("{}: not a directory", directory.string()));
  const fs::path root = fs::absolute(directory).lexically_normal();
  std::error_code error;
  fs::path skip = exclude.empty() ? fs::path() : fs::weakly_canonical(fs::absolute(exclude), error);
  if (error) skip = fs::absolute(exclude);  // made, or refused with its reason, when the batch starts
  std::vector<std::pair<fs::path, Kind>> candidates;
  std::set<fs::path> owned;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, error);
       it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) break;
    const fs::path& path = it->path();
    const bool hidden = path.filename().string().starts_with(".");
    if (it->is_directory(error)) {
      if (hidden || (!skip.empty() && fs::weakly_canonical(path, error) == skip)) it.disable_recursion_pending();
      continue;
    }
    if (hidden || !it->is_regular_file(error)) continue;
    const Kind kind = sniff(path);
    if (kind == Kind::none) continue;
    candidates.emplace_back(path, kind);
    if (kind == Kind::ovf || kind == Kind::descriptor)
      for (const fs::path& file : owned_files(path, kind)) owned.insert(file.lexically_normal());
  }
  std::vector<LibraryImage> images;
  for (const auto& [path, kind] : candidates) {
    if (owned.contains(path.lexically_normal())) continue;
    const std::string key = path.lexically_relative(root).string();
    images.push_back({path, key, name_for(key), {}, ""});
  }
  std::sort(images.begin(), images.end(), [](const LibraryImage& a, const LibraryImage& b) { return a.key < b.key; });
  make_names_unique(images, directory.string());
  return images;
}

std::vector<LibraryImage> read_manifest(const fs::path& manifest) {
  std::string text;
  try {
    text = read_host_file(manifest, 64 << 20);  // a regular file, or a pipe: `batch <(find ...)`
  } catch (const Error& e) {
    throw BadInput(e.what());
  }
  return parse_manifest(text, manifest);
}

std::vector<LibraryImage> parse_manifest(std::string_view text, const fs::path& manifest) {
  const std::string where = manifest.string();
  const std::string_view start = trim(text), first_line = start.substr(0, start.find('\n'));
  std::vector<LibraryImage> images;
  if (start.starts_with("[")) {
    images = json_manifest(text, manifest);
  } else if (contains_icase(first_line, "image") && first_line.find(',') != std::string_view::npos) {
    images = csv_manifest(text, manifest);
  } else {
    const std::vector<std::string_view> lines = split_lines(text);
    for (size_t n = 0; n < lines.size(); ++n) {
      const std::string_view line = trim(lines[n]);
      if (line.empty() || line.starts_with("#")) continue;
      images.push_back(listed(manifest, std::string(line), {}, fmt::format("{}:{}", where, n + 1)));
    }
  }
  std::set<std::string> keys;
  for (const LibraryImage& image : images)
    if (!keys.insert(image.key).second) throw BadInput(fmt::format("{}: '{}' is listed twice", where, image.key));
  make_names_unique(images, where);
  return images;
}

std::vector<fs::path> companion_files(const fs::path& image) {
  const Kind kind = sniff(image);
  if (kind != Kind::ovf && kind != Kind::descriptor) return {};
  std::vector<fs::path> files;
  for (const fs::path& file : owned_files(image, kind))
    if (std::error_code error; fs::exists(file, error)) files.push_back(file);
  return files;
}

std::string default_output_format(const fs::path& image) {
  const auto g = glance(image);
  if (!g) return "vmdk";  // vmfix says what is wrong with it
  if (g->at(257, "ustar") || g->head.find("Envelope") != std::string::npos)
    return std::string(image::to_string(image::default_output_format("ova", {}, "")));
  image::Format format = image::Format::raw;
  std::string variant;
  if (g->at(0, "vhdxfile"))
    format = image::Format::vhdx;
  else if (g->vhd_footer()) {  // a dynamic VHD also has a copy of the footer at its start
    format = image::Format::vhd;
    variant = static_cast<unsigned char>(g->tail[63]) == 2 ? "fixed" : "dynamic";
  } else if (g->at(0, "conectix"))
    format = image::Format::vhd;
  else if (g->at(0, "QFI\xfb"))
    format = image::Format::qcow2;
  else if (g->at(0, "KDMV") || g->head.find("# Disk DescriptorFile") != std::string::npos)
    format = image::Format::vmdk;
  return std::string(image::to_string(image::default_output_format("disk", format, variant)));
}

std::vector<LibraryImage> shard_of(const std::vector<LibraryImage>& images, int index, int count) {
  std::vector<LibraryImage> mine;
  for (const LibraryImage& image : images)
    if (static_cast<int>(fnv1a64(image.key) % static_cast<uint64_t>(count)) == index) mine.push_back(image);
  return mine;
}

}  // namespace vmfix::batch
