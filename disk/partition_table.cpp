#include "disk/partition_table.h"

#include <fmt/core.h>
#include <libdeflate.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "disk/partition_types.h"
#include "support/bytes.h"

namespace vmfix::disk {

namespace {

bool is_extended(uint8_t type) { return type == 0x05 || type == 0x0f || type == 0x85; }

std::string utf16le_name(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    unsigned code = static_cast<unsigned char>(bytes[i]) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    if (code == 0) break;
    if (code < 0x80)
      out += static_cast<char>(code);
    else if (code < 0x800) {
      out += static_cast<char>(0xc0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
      out += static_cast<char>(0xe0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    }
  }
  return out;
}

void read_logical_partitions(const ReadBytes& read, uint64_t extended_start, PartitionTable& table) {
  std::set<uint64_t> visited;
  uint64_t ebr = extended_start;
  for (int number = 5; number < 5 + 128; ++number) {
    if (!visited.insert(ebr).second) {
      table.problems.push_back(fmt::format("extended partition chain loops back to sector {}", ebr));
      return;
    }
    std::string sector = read(ebr * 512, 512);
    if (sector.size() < 512 || static_cast<unsigned char>(sector[510]) != 0x55 ||
        static_cast<unsigned char>(sector[511]) != 0xaa) {
      table.problems.push_back(fmt::format("extended boot record at sector {} has no signature", ebr));
      return;
    }
    const size_t entry = 446, next = 446 + 16;
    uint8_t type = static_cast<uint8_t>(sector[entry + 4]);
    uint32_t start = le32(sector, entry + 8), count = le32(sector, entry + 12);
    if (type != 0 && count != 0) {
      Partition p;
      p.number = number;
      p.first_sector = ebr + start;
      p.last_sector = ebr + start + count - 1;
      p.mbr_type = type;
      p.bootable = static_cast<unsigned char>(sector[entry]) == 0x80;
      p.logical = true;
      table.partitions.push_back(p);
    }
    uint32_t next_start = le32(sector, next + 8);
    if (static_cast<uint8_t>(sector[next + 4]) == 0 || next_start == 0) return;
    ebr = extended_start + next_start;
  }
  table.problems.push_back("more than 128 logical partitions; the rest are ignored");
}

bool read_gpt(const ReadBytes& read, uint64_t disk_size, uint32_t sector_size, PartitionTable& table) {
  std::string header = read(sector_size, sector_size);
  if (header.size() < 92 || header.compare(0, 8, "EFI PART") != 0) return false;
  table.kind = "gpt";
  table.sector_size = sector_size;
  const uint32_t header_size = le32(header, 12);
  if (header_size < 92 || header_size > sector_size) {
    table.problems.push_back(fmt::format("GPT header size {} is invalid", header_size));
    return true;
  }
  std::string check = header.substr(0, header_size);
  std::memset(check.data() + 16, 0, 4);
  if (crc32(check) != le32(header, 16)) table.problems.push_back("primary GPT header CRC32 is wrong");

  const uint64_t sectors = disk_size / sector_size;
  const uint64_t first_usable = le64(header, 40), last_usable = le64(header, 48);
  const uint64_t entries_lba = le64(header, 72), backup_lba = le64(header, 32);
  const uint32_t entry_count = le32(header, 80), entry_size = le32(header, 84);
  table.disk_guid = format_guid(std::string_view(header).substr(56, 16));
  if (entry_size < 128 || entry_size > 4096 || entry_count > 4096) {
    table.problems.push_back(
        fmt::format("GPT entry array ({} entries of {} bytes) is invalid", entry_count, entry_size));
    return true;
  }
  if (backup_lba != sectors - 1)
    table.problems.push_back(
        fmt::format("backup GPT header is at sector {}, not at the last sector {} (the disk was resized?)", backup_lba,
                    sectors - 1));
  else if (read(backup_lba * sector_size, 8) != "EFI PART")
    table.problems.push_back("backup GPT header is missing");

  std::string entries = read(entries_lba * sector_size, size_t{entry_count} * entry_size);
  if (entries.size() < size_t{entry_count} * entry_size) {
    table.problems.push_back("GPT entry array runs past the end of the disk");
    return true;
  }
  if (crc32(entries) != le32(header, 88)) table.problems.push_back("GPT entry array CRC32 is wrong");
  for (uint32_t i = 0; i < entry_count; ++i) {
    std::string_view entry = std::string_view(entries).substr(size_t{i} * entry_size, entry_size);
    if (std::all_of(entry.begin(), entry.begin() + 16, [](char c) { return c == 0; })) continue;
    Partition p;
    p.number = static_cast<int>(i + 1);
    p.gpt_type = format_guid(entry.substr(0, 16));
    p.gpt_guid = format_guid(entry.substr(16, 16));
    p.first_sector = le64(entry, 32);
    p.last_sector = le64(entry, 40);
    p.name = utf16le_name(entry.substr(56, 72));
    if (p.last_sector < p.first_sector || p.first_sector < first_usable || p.last_sector > last_usable)
      table.problems.push_back(fmt::format("GPT partition {} ({}-{}) lies outside the usable sectors {}-{}", p.number,
                                           p.first_sector, p.last_sector, first_usable, last_usable));
    table.partitions.push_back(p);
  }
  return true;
}

// Problems any table can have: partitions past the end of the disk, or overlapping.
void check_layout(PartitionTable& table, uint64_t disk_size) {
  const uint64_t sectors = disk_size / table.sector_size;
  for (const Partition& p : table.partitions)
    if (p.last_sector >= sectors)
      table.problems.push_back(fmt::format("partition {} ends at sector {}, past the end of the disk ({} sectors)",
                                           p.number, p.last_sector, sectors));
  std::vector<const Partition*> data;
  for (const Partition& p : table.partitions)
    if (!is_extended(p.mbr_type)) data.push_back(&p);
  std::sort(data.begin(), data.end(), [](auto* a, auto* b) { return a->first_sector < b->first_sector; });
  for (size_t i = 1; i < data.size(); ++i)
    if (data[i]->first_sector <= data[i - 1]->last_sector)
      table.problems.push_back(fmt::format("partitions {} and {} overlap", data[i - 1]->number, data[i]->number));
}

}  // namespace

uint32_t crc32(std::string_view data) {
  // GPT's CRC32 is zlib's (IEEE 802.3, reflected); libdeflate's runs on the CPU's carry-less multiply.
  return libdeflate_crc32(0, data.data(), data.size());
}

std::string format_guid(std::string_view b) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(b[i]); };
  return fmt::format(
      "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}", byte(3),
      byte(2), byte(1), byte(0), byte(5), byte(4), byte(7), byte(6), byte(8), byte(9), byte(10), byte(11), byte(12),
      byte(13), byte(14), byte(15));
}

std::string PartitionTable::role_of(const Partition& partition) const {
  return std::string(kind == "gpt" ? role_of_gpt_type(partition.gpt_type) : role_of_mbr_type(partition.mbr_type));
}

PartitionTable read_partition_table(const ReadBytes& read, uint64_t disk_size) {
  PartitionTable table;
  std::string mbr = read(0, 512);
  const bool has_mbr =
      mbr.size() == 512 && static_cast<unsigned char>(mbr[510]) == 0x55 && static_cast<unsigned char>(mbr[511]) == 0xaa;
  bool protective = false;
  int real_entries = 0;
  if (has_mbr) {
    for (int i = 0; i < 4; ++i) {
      uint8_t type = static_cast<uint8_t>(mbr[446 + 16 * i + 4]);
      if (type == 0xee)
        protective = true;
      else if (type != 0)
        ++real_entries;
    }
  }
  if (protective || !has_mbr) {
    if (read_gpt(read, disk_size, 512, table) || read_gpt(read, disk_size, 4096, table)) {
      table.hybrid_mbr = protective && real_entries > 0;
      if (!protective && has_mbr) table.problems.push_back("GPT without a protective MBR");
      check_layout(table, disk_size);
      return table;
    }
    if (!has_mbr) return table;  // no partition table
  }
  // A FAT or NTFS boot sector also ends in 55 AA: an MBR's entries must make sense.
  table.kind = "mbr";
  table.disk_signature = le32(mbr, 440);
  for (int i = 0; i < 4; ++i) {
    const size_t entry = 446 + 16 * static_cast<size_t>(i);
    uint8_t status = static_cast<uint8_t>(mbr[entry]);
    uint8_t type = static_cast<uint8_t>(mbr[entry + 4]);
    uint32_t start = le32(mbr, entry + 8), count = le32(mbr, entry + 12);
    if (status != 0 && status != 0x80) {
      table.kind = "none";
      table.partitions.clear();
      return table;
    }
    if (type == 0 || count == 0) continue;
    Partition p;
    p.number = i + 1;
    p.first_sector = start;
    p.last_sector = uint64_t{start} + count - 1;
    p.mbr_type = type;
    p.bootable = status == 0x80;
    table.partitions.push_back(p);
    if (is_extended(type)) read_logical_partitions(read, start, table);
  }
  check_layout(table, disk_size);
  return table;
}

}  // namespace vmfix::disk
