#include "image/vm_source.h"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "image/manifest.h"
#include "image/ova.h"
#include "support/error.h"
#include "support/files.h"
#include "support/process.h"
#include "support/text.h"

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

bool looks_like_ovf(std::string_view head) {
  std::string_view start = trim(head.substr(0, 4096));
  if (start.starts_with("\xef\xbb\xbf")) start.remove_prefix(3);
  return (start.starts_with("<?xml") || start.starts_with("<")) && start.find("Envelope") != std::string_view::npos;
}

// An href must name a file in the same place as the descriptor: no paths, no URLs.
void check_href(const std::string& href, const std::string& where) {
  if (href.empty() || href.front() == '/' || href.find("..") != std::string::npos ||
      href.find("://") != std::string::npos || href.find('\\') != std::string::npos)
    throw BadInput(
        fmt::format("{}: disk file '{}' is not a plain name beside the descriptor; refusing it", where, href));
}

void check_supported(const OvfFile& file, const std::string& where) {
  if (file.chunk_size)
    throw BadInput(fmt::format("{}: disk '{}' is split into chunks (chunkSize); chunked OVA disks are not supported",
                               where, file.href));
  if (!file.compression.empty() && file.compression != "identity")
    throw BadInput(fmt::format("{}: disk '{}' is {}-compressed; not supported", where, file.href, file.compression));
}

const OvfFile& file_of(const Ovf& ovf, const OvfDisk& disk, const std::string& where) {
  for (const OvfFile& file : ovf.files)
    if (file.href == disk.file_href) return file;
  throw BadInput(fmt::format("{}: disk '{}' has no file", where, disk.disk_id));
}

bool skip_blank(const OvfDisk& disk, VmSource& vm) {
  if (!disk.file_href.empty()) return false;
  vm.notes.push_back(fmt::format("disk '{}' has no file (created empty at deployment); it is not part of the image",
                                 disk.disk_id.empty() ? "unnamed" : disk.disk_id));
  return true;
}

// Checks every manifest entry against `bytes_of(name)`. "verified" only when the entries also
// cover every file in `required` (the descriptor and the disks); else "incomplete", with a note.
template <typename Lookup>
std::string verify_manifest(const std::optional<std::string>& manifest_text, const std::string& where, Lookup bytes_of,
                            const std::vector<std::string>& required, std::vector<std::string>& notes) {
  if (!manifest_text) return "absent";
  const auto entries = parse_manifest(*manifest_text, where + " (manifest)");
  std::string status = "verified";
  for (const std::string& file : required) {
    if (std::none_of(entries.begin(), entries.end(), [&](const ManifestEntry& e) { return e.file == file; })) {
      notes.push_back(fmt::format("the manifest does not cover '{}'", file));
      status = "incomplete";
    }
  }
  for (const ManifestEntry& entry : entries) {
    std::optional<ByteSource> bytes = bytes_of(entry.file);
    if (!bytes) throw BadInput(fmt::format("{}: the manifest lists '{}', which is missing", where, entry.file));
    if (digest_of(*bytes, entry.algorithm) != entry.digest)
      throw BadInput(fmt::format("{}: '{}' does not match its {} in the manifest (corrupt or altered)", where,
                                 entry.file, entry.algorithm));
  }
  return status;
}

std::vector<std::string> files_to_cover(const std::string& descriptor, const Ovf& ovf) {
  std::vector<std::string> files{descriptor};
  for (const OvfDisk& disk : ovf.disks)
    if (!disk.file_href.empty()) files.push_back(disk.file_href);
  return files;
}

constexpr uint64_t kMaxDescriptor = 16 << 20;

VmSource open_ova(const fs::path& path) {
  const std::string where = path.string();
  VmSource vm{"ova", path, {}, std::nullopt, "", "", {}};
  const auto members = read_tar_members(path);
  auto member = [&](const std::string& name) -> const TarMember* {
    std::string wanted = name;
    while (wanted.starts_with("./")) wanted.erase(0, 2);
    for (const TarMember& m : members)
      if (m.name == wanted) return &m;
    return nullptr;
  };
  std::vector<const TarMember*> descriptors, manifests;
  for (const TarMember& m : members) {
    if (m.name.ends_with(".ovf")) descriptors.push_back(&m);
    if (m.name.ends_with(".mf")) manifests.push_back(&m);
  }
  if (descriptors.empty()) throw BadInput(fmt::format("{}: the OVA holds no .ovf descriptor", where));
  if (descriptors.size() > 1)
    throw BadInput(fmt::format("{}: the OVA holds {} .ovf descriptors", where, descriptors.size()));
  if (manifests.size() > 1) throw BadInput(fmt::format("{}: the OVA holds {} .mf manifests", where, manifests.size()));
  const TarMember& descriptor = *descriptors.front();
  if (descriptor.size > kMaxDescriptor || (!manifests.empty() && manifests.front()->size > kMaxDescriptor))
    throw BadInput(fmt::format("{}: the OVF or manifest is implausibly large", where));
  vm.ovf_text = read_host_bytes(path, descriptor.offset, descriptor.size);
  vm.ovf = parse_ovf(vm.ovf_text, where + ":" + descriptor.name);
  std::optional<std::string> manifest_text;
  if (!manifests.empty()) manifest_text = read_host_bytes(path, manifests.front()->offset, manifests.front()->size);
  auto bytes_of = [&](const std::string& name) -> std::optional<ByteSource> {
    const TarMember* m = member(name);
    if (!m) return std::nullopt;
    return ByteSource{path, m->offset, m->size, where + ":" + m->name};
  };
  vm.manifest = verify_manifest(manifest_text, where, bytes_of, files_to_cover(descriptor.name, *vm.ovf), vm.notes);
  for (const OvfDisk& disk : vm.ovf->disks) {
    if (skip_blank(disk, vm)) continue;
    check_supported(file_of(*vm.ovf, disk, where), where);
    auto bytes = bytes_of(disk.file_href);
    if (!bytes) throw BadInput(fmt::format("{}: disk file '{}' is not in the archive", where, disk.file_href));
    vm.disks.push_back(detect_image(*bytes, false));
  }
  if (vm.disks.empty()) throw BadInput(fmt::format("{}: the OVF lists no disk with data", where));
  return vm;
}

VmSource open_ovf(const fs::path& path) {
  const std::string where = path.string();
  VmSource vm{"ovf", path, {}, std::nullopt, "", "", {}};
  if (fs::file_size(path) > kMaxDescriptor) throw BadInput(fmt::format("{}: the OVF is implausibly large", where));
  vm.ovf_text = read_host_file(path);
  vm.ovf = parse_ovf(vm.ovf_text, where);
  const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::optional<std::string> manifest_text;
  fs::path manifest = path;
  manifest.replace_extension(".mf");
  if (std::error_code error; fs::exists(fs::symlink_status(manifest, error)))  // one that is there is read
    manifest_text = read_host_file(manifest, kMaxDescriptor);
  auto bytes_of = [&](const std::string& name) -> std::optional<ByteSource> {
    check_href(name, where);
    const fs::path file = directory / name;
    if (!fs::is_regular_file(file)) return std::nullopt;
    return ByteSource{file, 0, fs::file_size(file), file.string()};
  };
  vm.manifest =
      verify_manifest(manifest_text, where, bytes_of, files_to_cover(path.filename().string(), *vm.ovf), vm.notes);
  for (const OvfDisk& disk : vm.ovf->disks) {
    if (skip_blank(disk, vm)) continue;
    check_supported(file_of(*vm.ovf, disk, where), where);
    check_href(disk.file_href, where);
    vm.disks.push_back(open_image(directory / disk.file_href));
  }
  if (vm.disks.empty()) throw BadInput(fmt::format("{}: the OVF lists no disk with data", where));
  return vm;
}

}  // namespace

VmSource open_vm(const fs::path& path) {
  // open_image's checks (exists, readable, not a directory...) apply to every kind of input.
  std::string head;
  std::error_code error;  // a path vmfix cannot reach: open_image below says why
  try {
    if (fs::is_regular_file(path, error)) head = read_host_bytes(path, 0, 4096);
  } catch (const Error&) {
    // unreadable: open_image below says so in its words
  }
  try {
    if (looks_like_tar(head)) return open_ova(path);
    if (looks_like_ovf(head)) return open_ovf(path);
  } catch (const BadInput&) {
    throw;
  } catch (const Error& e) {
    throw BadInput(e.what());
  }
  return VmSource{"disk", path, {open_image(path)}, std::nullopt, "", "", {}};
}

fs::path create_overlay(const SourceImage& image, const fs::path& directory, int index) {
  const fs::path overlay = directory / fmt::format("disk{}.qcow2", index);
  std::string backing;
  if (image.bytes.offset == 0) {  // a whole file or device (an archive member always starts after a header)
    backing = fs::absolute(image.bytes.file).string();
  } else {
    // qemu reads the byte range of the archive through a raw layer with offset and size.
    nlohmann::json spec = {{"driver", std::string(qemu_format(image.format))},
                           {"file",
                            {{"driver", "raw"},
                             {"offset", image.bytes.offset},
                             {"size", image.bytes.size},
                             {"file", {{"driver", "file"}, {"filename", fs::absolute(image.bytes.file).string()}}}}}};
    backing = "json:" + spec.dump();
  }
  run_host_checked({"qemu-img", "create", "-q", "-f", "qcow2", "-F", std::string(qemu_format(image.format)), "-b",
                    backing, overlay.string()});
  return overlay;
}

}  // namespace vmfix::image
