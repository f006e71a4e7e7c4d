#include "image/detect.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "image/vmdk.h"
#include "support/bytes.h"
#include "support/error.h"
#include "support/files.h"
#include "support/unique_fd.h"

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

bool has_at(std::string_view bytes, size_t at, std::string_view magic) {
  return bytes.size() >= at + magic.size() && bytes.substr(at, magic.size()) == magic;
}

// VHD footer checksum: ones' complement of the byte sum, with the checksum field itself excluded.
bool vhd_checksum_ok(std::string_view footer) {
  uint32_t sum = 0;
  for (size_t i = 0; i < 512; ++i)
    if (i < 64 || i >= 68) sum += static_cast<unsigned char>(footer[i]);
  return ~sum == be32(footer, 64);
}

std::string utf16be_to_ascii(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    unsigned code = (static_cast<unsigned char>(bytes[i]) << 8) | static_cast<unsigned char>(bytes[i + 1]);
    if (code == 0) break;
    out += code < 128 ? static_cast<char>(code) : '?';
  }
  return out;
}

SourceImage check_vhd(const ByteSource& bytes, std::string_view head) {
  const std::string& name = bytes.name;
  const uint64_t size = bytes.size;
  std::string footer = bytes.read(size - 512, 512);
  if (!has_at(footer, 0, "conectix")) {
    if (has_at(head, 0, "conectix"))
      throw BadInput(fmt::format("{}: VHD is truncated (the footer at the end of the file is missing)", name));
    throw BadInput(fmt::format("{}: not a VHD", name));
  }
  if (!vhd_checksum_ok(footer)) throw BadInput(fmt::format("{}: VHD footer checksum is wrong", name));
  SourceImage image{bytes, Format::vhd, "", be64(footer, 48), {}};
  switch (be32(footer, 60)) {
    case 2:
      image.variant = "fixed";
      if (size - 512 < image.virtual_size) throw BadInput(fmt::format("{}: fixed VHD is truncated", name));
      return image;
    case 3:
    case 4:
      break;
    default:
      throw BadInput(fmt::format("{}: VHD disk type {} is not supported", name, be32(footer, 60)));
  }
  if (std::string_view(footer).substr(0, 512) != head.substr(0, 512))
    throw BadInput(fmt::format("{}: VHD header copy and footer differ", name));
  uint64_t header_offset = be64(footer, 16);
  std::string header = bytes.read(header_offset, 1024);
  if (header.size() < 1024 || !has_at(header, 0, "cxsparse"))
    throw BadInput(fmt::format("{}: dynamic VHD header is missing or truncated", name));
  if (be32(footer, 60) == 4)
    throw BadInput(fmt::format("{}: differencing VHD; its parent is '{}'. Merge it into the parent first", name,
                               utf16be_to_ascii(std::string_view(header).substr(64, 512))));
  uint64_t bat_offset = be64(header, 16);
  uint64_t bat_bytes = uint64_t{be32(header, 28)} * 4;
  if (bat_offset + bat_bytes > size) throw BadInput(fmt::format("{}: dynamic VHD is truncated", name));
  image.variant = "dynamic";
  return image;
}

SourceImage check_qcow2(const ByteSource& bytes, std::string_view head) {
  const std::string& name = bytes.name;
  const uint64_t size = bytes.size;
  if (head.size() < 72) throw BadInput(fmt::format("{}: qcow2 header is truncated", name));
  uint32_t version = be32(head, 4);
  if (version != 2 && version != 3) throw BadInput(fmt::format("{}: unsupported qcow2 version {}", name, version));
  if (be64(head, 8) != 0) {
    uint64_t offset = be64(head, 8);
    uint32_t length = std::min<uint32_t>(be32(head, 16), 1023);
    std::string backing = offset < head.size() ? std::string(head.substr(offset, length)) : "?";
    throw BadInput(
        fmt::format("{}: qcow2 has a backing file '{}'; flatten it first (qemu-img convert)", name, backing));
  }
  if (version == 3 && head.size() >= 80) {
    // Incompatible features: 0 dirty and 3 compression type and 4 extended L2 are fine to read;
    // 1 means qemu marked it corrupt; 2 is an external data file, which names another host path.
    const uint64_t features = be64(head, 72);
    if (features & 0x4)
      throw BadInput(fmt::format("{}: qcow2 keeps its data in an external file; refusing to follow it", name));
    if (features & 0x2) throw BadInput(fmt::format("{}: qcow2 is marked corrupt by qemu", name));
    if (features & ~uint64_t{0x1f}) throw BadInput(fmt::format("{}: qcow2 uses features vmfix does not know", name));
  }
  uint32_t cluster_bits = be32(head, 20);
  if (cluster_bits < 9 || cluster_bits > 21) throw BadInput(fmt::format("{}: corrupt qcow2 header", name));
  uint64_t l1_end = be64(head, 40) + uint64_t{be32(head, 36)} * 8;
  uint64_t refcount_end = be64(head, 48) + (uint64_t{be32(head, 56)} << cluster_bits);
  if (l1_end > size || refcount_end > size)
    throw BadInput(fmt::format("{}: qcow2 is truncated (metadata beyond the end of the file)", name));
  return SourceImage{bytes, Format::qcow2, fmt::format("v{}", version), be64(head, 24), {}};
}

// A raw image must at least look like a disk: a partition table, or a bare filesystem / PV.
bool looks_like_raw_disk(const ByteSource& bytes, std::string_view head) {
  if (has_at(head, 510, "\x55\xAA") || has_at(head, 512, "EFI PART") || has_at(head, 4096, "EFI PART")) return true;
  if (has_at(head, 1080, "\x53\xEF") || has_at(head, 0, "XFSB") || has_at(head, 3, "NTFS    ") ||
      has_at(head, 512, "LABELONE") || has_at(head, 4086, "SWAPSPACE2") || has_at(head, 32769, "CD001"))
    return true;
  return bytes.read(0x10040, 8) == "_BHRfS_M";
}

bool looks_like_text(std::string_view head) {
  if (head.empty()) return false;
  return std::all_of(head.begin(), head.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\n' || u == '\r' || u == '\t' || (u >= 0x20 && u < 0x7f) || u >= 0x80;
  });
}

}  // namespace

std::string_view qemu_format(Format format) {
  switch (format) {
    case Format::qcow2:
      return "qcow2";
    case Format::vmdk:
      return "vmdk";
    case Format::vhd:
      return "vpc";
    case Format::vhdx:
      return "vhdx";
    case Format::raw:
      break;
  }
  return "raw";
}

std::string_view to_string(Format format) { return format == Format::vhd ? "vhd" : qemu_format(format); }

SourceImage open_image(const fs::path& path) {
  const std::string name = path.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw BadInput(fmt::format("{}: no such file", name));
    throw BadInput(fmt::format("{}: {}", name, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) throw BadInput(fmt::format("{}: is a directory, not a disk image", name));
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    throw BadInput(fmt::format("{}: not a regular file or block device", name));
  if (::access(path.c_str(), R_OK) != 0)
    throw BadInput(fmt::format("{}: cannot read it: {}", name, std::strerror(errno)));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    const UniqueFd device(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (device.valid()) {
      off_t end = ::lseek(device.get(), 0, SEEK_END);
      size = end > 0 ? static_cast<uint64_t>(end) : 0;
    }
  }
  try {
    return detect_image(ByteSource{path, 0, size, name}, true);
  } catch (const BadInput&) {
    throw;
  } catch (const Error& e) {  // an I/O error while reading: the file is unusable as given
    throw BadInput(e.what());
  }
}

SourceImage detect_image(const ByteSource& bytes, bool allow_descriptor) {
  const std::string& name = bytes.name;
  const uint64_t size = bytes.size;
  if (size == 0) throw BadInput(fmt::format("{}: empty file", name));
  const std::string head = bytes.read(0, 64 * 1024);
  if (has_at(head, 0, "QFI\xfb")) return check_qcow2(bytes, head);
  if (has_at(head, 0, "KDMV")) {
    SparseVmdkInfo info = check_sparse_vmdk(bytes);
    return SourceImage{bytes, Format::vmdk, info.create_type, info.capacity_bytes, {}};
  }
  if (has_at(head, 0, "# Disk DescriptorFile")) {
    if (!allow_descriptor)
      throw BadInput(
          fmt::format("{}: a VMDK descriptor whose extents live elsewhere; only self-contained disks "
                      "are read from an archive",
                      name));
    if (size > 64 * 1024) throw BadInput(fmt::format("{}: VMDK descriptor is implausibly large", name));
    SparseVmdkInfo info = check_vmdk_descriptor(bytes.file, head);
    return SourceImage{bytes, Format::vmdk, info.create_type, info.capacity_bytes, info.files};
  }
  if (has_at(head, 0, "vhdxfile")) {
    if (size < 1024 * 1024 || (bytes.read(64 * 1024, 4) != "head" && bytes.read(128 * 1024, 4) != "head"))
      throw BadInput(fmt::format("{}: VHDX is truncated or its headers are damaged", name));
    return SourceImage{bytes, Format::vhdx, "", 0, {}};
  }
  if (size >= 512 && (has_at(head, 0, "conectix") || bytes.read(size - 512, 8) == "conectix"))
    return check_vhd(bytes, head);
  if (has_at(head, 257, "ustar")) throw BadInput(fmt::format("{}: a tar archive (OVA?) inside a disk position", name));
  if (looks_like_text(std::string_view(head).substr(0, 4096)))
    throw BadInput(fmt::format("{}: is a text file, not a disk image", name));
  if (size < 512) throw BadInput(fmt::format("{}: too small to be a disk image ({} bytes)", name, size));
  if (looks_like_raw_disk(bytes, head)) return SourceImage{bytes, Format::raw, "", size, {}};
  throw BadInput(fmt::format("{}: not a disk image (no known image header, partition table or filesystem)", name));
}

}  // namespace vmfix::image
