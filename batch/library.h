#pragma once
// What a batch processes: the images under a directory, or those a manifest lists (one path per
// line, or a JSON or CSV list with per-image options), each with a stable key and output name.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::batch {

// Options one image may set in a manifest; unset ones come from the batch's command line.
struct ImageOptions {
  std::optional<std::string> output_format;
  std::optional<std::string> profile;
  std::optional<std::string> fix;   // "ID[,ID]"
  std::optional<std::string> skip;  // "ID[,ID]"
  std::optional<bool> force;
};

struct LibraryImage {
  std::filesystem::path path;  // absolute
  std::string key;             // relative to the library (or as the manifest names it): unique, stable
  std::string name;            // for files in the output directory: the key with '/' as '_', no extension
  ImageOptions options;
  std::string listed_at;  // where a manifest lists it ("list.csv:4", "list.json: entry 2"); "" in a scan
};

// The files an image reads besides itself: an OVF's disks and manifest, a VMDK descriptor's extents.
std::vector<std::filesystem::path> companion_files(const std::filesystem::path& image);

// The output format vmfix picks for this input by default (image::default_output_format), from a
// glance at its content rather than a full open (which would verify an OVA's digests).
std::string default_output_format(const std::filesystem::path& image);

// Every image under `directory`, recursively, in path order. A file is an image when its content
// says so (tar, qcow2, VMDK, VHD, VHDX, OVF, VMDK descriptor) or its extension does (so a corrupt
// "disk.vmdk" is processed, and fails, rather than silently missed). Disk files an OVF or a VMDK
// descriptor beside them names are part of that image, not images of their own; `exclude` (the
// output directory) and hidden files are skipped.
std::vector<LibraryImage> scan_directory(const std::filesystem::path& directory, const std::filesystem::path& exclude);

// A manifest: JSON (an array of paths or of {"image": PATH, "output_format", "profile", "fix",
// "skip", "force"}), CSV (a header row naming those columns, "image" required), or plain text (one
// path per line, '#' comments). Relative paths are relative to the manifest. Throws BadInput.
std::vector<LibraryImage> read_manifest(const std::filesystem::path& manifest);

// The manifest `text` read from the file `manifest`: the images it lists, with unique keys and
// unique names, or one BadInput naming the file (and the line or entry where there is one).
std::vector<LibraryImage> parse_manifest(std::string_view text, const std::filesystem::path& manifest);

// The images of shard `index` (0-based) of `count`: by a hash of the key, so a shard's images stay
// its own when the library grows.
std::vector<LibraryImage> shard_of(const std::vector<LibraryImage>& images, int index, int count);

}  // namespace vmfix::batch
