#include "image/vmdk.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <cstring>

#include "support/bytes.h"
#include "support/error.h"
#include "support/files.h"
#include "support/text.h"

namespace vmfix::image {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSector = 512;
constexpr uint64_t kGdAtEnd = ~0ULL;  // streamOptimized: the grain directory is in the footer

// The fields of the 512-byte sparse extent header that validation needs.
struct SparseHeader {
  uint32_t version, flags;
  uint64_t capacity, grain_size, descriptor_offset, descriptor_size;
  uint32_t gtes_per_gt;
  uint64_t gd_offset, overhead;
};

SparseHeader parse_sparse_header(std::string_view bytes) {
  return SparseHeader{le32(bytes, 4),  le32(bytes, 8),  le64(bytes, 12), le64(bytes, 20), le64(bytes, 28),
                      le64(bytes, 36), le32(bytes, 44), le64(bytes, 56), le64(bytes, 64)};
}

std::string unquote(std::string_view value) {
  value = trim(value);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return std::string(value);
}

// Every grain table and every grain a monolithicSparse extent points at must lie inside the file.
void check_grain_tables(const ByteSource& source, const SparseHeader& header, uint64_t file_sectors) {
  const std::string& name = source.name;
  const uint64_t sectors_per_table = header.grain_size * header.gtes_per_gt;  // bounded by the header checks
  const uint64_t tables = (header.capacity + sectors_per_table - 1) / sectors_per_table;
  if (tables > (1ULL << 24)) throw BadInput(fmt::format("{}: VMDK grain directory is implausibly large", name));
  const uint64_t directory_sectors = (tables * 4 + kSector - 1) / kSector;
  if (header.gd_offset >= file_sectors || directory_sectors > file_sectors - header.gd_offset)
    throw BadInput(fmt::format("{}: VMDK is truncated (grain directory beyond the end of the file)", name));
  std::string directory = source.read(header.gd_offset * kSector, tables * 4);
  if (directory.size() != tables * 4)
    throw BadInput(fmt::format("{}: VMDK is truncated (short grain directory)", name));
  const uint64_t table_bytes = uint64_t{header.gtes_per_gt} * 4;
  for (uint64_t t = 0; t < tables; ++t) {
    uint64_t table_sector = le32(directory, t * 4);
    if (table_sector == 0) continue;
    if (table_sector >= file_sectors || (table_bytes + kSector - 1) / kSector > file_sectors - table_sector)
      throw BadInput(fmt::format("{}: VMDK is truncated (grain table {} beyond the end of the file)", name, t));
    std::string table = source.read(table_sector * kSector, table_bytes);
    if (table.size() != table_bytes) throw BadInput(fmt::format("{}: VMDK is truncated (short grain table)", name));
    for (uint64_t g = 0; g < header.gtes_per_gt; ++g) {
      uint64_t grain_sector = le32(table, g * 4);
      if (grain_sector > 1 && grain_sector + header.grain_size > file_sectors)
        throw BadInput(fmt::format("{}: VMDK is truncated (data grain at sector {} beyond the end of the file)", name,
                                   grain_sector));
    }
  }
}

}  // namespace

VmdkDescriptor parse_vmdk_descriptor(std::string_view text) {
  VmdkDescriptor descriptor;
  text = text.substr(0, text.find('\0'));  // descriptors are often padded to a sector with NULs
  for (std::string_view line : split_lines(text)) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    size_t equals = line.find('=');
    if (equals != std::string_view::npos && line.find('"') > equals) {
      std::string key(trim(line.substr(0, equals)));
      std::string value = unquote(line.substr(equals + 1));
      if (key == "createType") descriptor.create_type = value;
      if (key == "parentCID") descriptor.parent_cid = value;
      if (key == "parentFileNameHint") descriptor.parent_file_name_hint = value;
      continue;
    }
    // Extent: ACCESS SECTORS TYPE "FILE" [OFFSET]. Anything else is refused, never skipped: qemu
    // reads extent lines across line breaks, and a line we skipped could be one it reads.
    size_t open_quote = line.find('"'), close_quote = line.rfind('"');
    auto fields = std::string(line.substr(0, open_quote == std::string_view::npos ? line.size() : open_quote));
    VmdkExtent extent;
    char access[16] = {}, type[16] = {};
    unsigned long long sectors = 0;
    int consumed = 0;
    if (open_quote == std::string_view::npos || close_quote == open_quote ||
        std::sscanf(fields.c_str(), "%15s %llu %15s %n", access, &sectors, type, &consumed) != 3 ||
        static_cast<size_t>(consumed) != fields.size()) {
      descriptor.malformed.emplace_back(line);
      continue;
    }
    extent.access = access;
    extent.sectors = sectors;
    extent.type = type;
    extent.file = std::string(line.substr(open_quote + 1, close_quote - open_quote - 1));
    std::string rest(trim(line.substr(close_quote + 1)));
    if (!rest.empty()) extent.offset = std::strtoull(rest.c_str(), nullptr, 10);
    descriptor.extents.push_back(extent);
  }
  return descriptor;
}

SparseVmdkInfo check_sparse_vmdk(const ByteSource& source) {
  const std::string& name = source.name;
  const uint64_t file_size = source.size;
  std::string bytes = source.read(0, kSector);
  if (bytes.size() < 80) throw BadInput(fmt::format("{}: VMDK is truncated (short header)", name));
  SparseHeader header = parse_sparse_header(bytes);
  if (header.version < 1 || header.version > 3)
    throw BadInput(fmt::format("{}: unsupported VMDK sparse version {}", name, header.version));
  // VMware's format: grains of at most 64 KiB (128 sectors), always 512 entries per grain table.
  if (header.grain_size == 0 || header.grain_size > 128 || (header.grain_size & (header.grain_size - 1)) != 0 ||
      header.gtes_per_gt != 512)
    throw BadInput(fmt::format("{}: corrupt VMDK header (grain size {}, {} entries per table)", name, header.grain_size,
                               header.gtes_per_gt));

  // Capacity 0 makes qemu treat the embedded descriptor as the disk, extents and all.
  if (header.capacity == 0) throw BadInput(fmt::format("{}: VMDK sparse header has capacity 0", name));
  SparseVmdkInfo info;
  info.capacity_bytes = header.capacity * kSector;
  if (header.descriptor_offset && header.descriptor_size && header.descriptor_size < 2048) {
    std::string text = source.read(header.descriptor_offset * kSector, header.descriptor_size * kSector);
    VmdkDescriptor embedded = parse_vmdk_descriptor(text.substr(0, text.find('\0')));
    info.create_type = embedded.create_type;
    if (!embedded.parent_cid.empty() && to_lower(embedded.parent_cid) != "ffffffff")
      throw BadInput(fmt::format("{}: VMDK is a snapshot delta of '{}'; consolidate the snapshots first", name,
                                 embedded.parent_file_name_hint));
    for (const VmdkExtent& extent : embedded.extents)
      if (extent.type != "SPARSE")
        throw BadInput(fmt::format("{}: sparse VMDK's embedded descriptor names a {} extent '{}'", name, extent.type,
                                   extent.file));
    if (!embedded.malformed.empty())
      throw BadInput(fmt::format("{}: sparse VMDK's embedded descriptor has a malformed line: {}", name,
                                 embedded.malformed.front()));
  }
  const uint64_t file_sectors = file_size / kSector;
  if (header.overhead > file_sectors)
    throw BadInput(fmt::format("{}: VMDK is truncated ({} bytes, metadata alone needs {})", name, file_size,
                               header.overhead * kSector));
  if (header.gd_offset == kGdAtEnd) {
    // streamOptimized: a footer (a copy of the header with the real gdOffset) sits before the
    // end-of-stream marker; without it the stream was cut short.
    if (file_size < 3 * kSector) throw BadInput(fmt::format("{}: streamOptimized VMDK is truncated (no footer)", name));
    std::string footer = source.read(file_size - 2 * kSector, kSector);
    if (footer.compare(0, 4, "KDMV") != 0)
      throw BadInput(fmt::format("{}: streamOptimized VMDK is truncated (footer missing at the end)", name));
    if (info.create_type.empty()) info.create_type = "streamOptimized";
    return info;
  }
  if (info.create_type.empty()) info.create_type = "monolithicSparse";
  check_grain_tables(source, header, file_sectors);
  return info;
}

SparseVmdkInfo check_vmdk_descriptor(const fs::path& path, std::string_view text) {
  const std::string name = path.string();
  VmdkDescriptor descriptor = parse_vmdk_descriptor(text);
  if (!descriptor.malformed.empty())
    throw BadInput(fmt::format("{}: VMDK descriptor line '{}' is neither a setting nor an extent", name,
                               descriptor.malformed.front()));
  if (descriptor.extents.empty()) throw BadInput(fmt::format("{}: VMDK descriptor lists no extents", name));
  if (!descriptor.parent_cid.empty() && to_lower(descriptor.parent_cid) != "ffffffff")
    throw BadInput(fmt::format("{}: VMDK is a snapshot delta of '{}'; consolidate the snapshots first", name,
                               descriptor.parent_file_name_hint));
  std::string kind = to_lower(descriptor.create_type);
  if (kind == "sesparse" || kind == "vmfssparse" || kind == "vmfsrdm" || kind == "vmfsrawdevicemap" ||
      kind == "vmfspassthroughrawdevicemap" || kind == "fulldevice" || kind == "partitioneddevice")
    throw BadInput(fmt::format("{}: VMDK type '{}' is not supported", name, descriptor.create_type));

  SparseVmdkInfo info{descriptor.create_type, 0, {}};
  const fs::path directory = path.parent_path();
  for (const VmdkExtent& extent : descriptor.extents) {
    info.capacity_bytes += extent.sectors * kSector;
    if (extent.type == "ZERO") continue;
    const fs::path file(extent.file);
    if (extent.file.empty() || file.is_absolute() || extent.file.find('/') != std::string::npos ||
        extent.file.find('\\') != std::string::npos || extent.file == "." || extent.file == "..")
      throw BadInput(fmt::format("{}: extent '{}' points outside the descriptor's directory; refusing to read it", name,
                                 extent.file));
    const fs::path extent_path = directory / file;
    info.files.push_back(extent_path);
    struct stat st {};
    if (::lstat(extent_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      throw BadInput(fmt::format("{}: extent '{}' is missing or not a regular file", name, extent.file));
    const auto size = static_cast<uint64_t>(st.st_size);
    if (extent.type == "FLAT" || extent.type == "VMFS") {
      if ((extent.offset + extent.sectors) * kSector > size)
        throw BadInput(fmt::format("{}: extent '{}' is truncated ({} bytes, descriptor needs {})", name, extent.file,
                                   size, (extent.offset + extent.sectors) * kSector));
    } else if (extent.type == "SPARSE") {
      ByteSource extent_source{extent_path, 0, size, extent_path.string()};
      if (extent_source.read(0, 4) != "KDMV")
        throw BadInput(fmt::format("{}: sparse extent '{}' has no VMDK header", name, extent.file));
      check_sparse_vmdk(extent_source);
    } else {
      throw BadInput(fmt::format("{}: extent type {} is not supported", name, extent.type));
    }
  }
  return info;
}

}  // namespace vmfix::image
