#pragma once
// MBR and GPT read and validated on the host from raw sectors: exact numbers, no tools in the
// appliance (each parted/sfdisk run there costs a second or more under software emulation).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::disk {

struct Partition {
  int number = 0;             // as Linux numbers them: MBR 1-4 primary, 5+ logical; GPT entry index + 1
  uint64_t first_sector = 0;  // in logical sectors
  uint64_t last_sector = 0;   // inclusive
  uint8_t mbr_type = 0;       // MBR only
  std::string gpt_type;       // GPT only, upper-case GUID
  std::string gpt_guid;       // GPT only: the partition's own GUID
  std::string name;           // GPT only (UTF-8)
  bool bootable = false;      // MBR active flag
  bool logical = false;       // MBR logical partition (inside an extended one)
};

struct PartitionTable {
  std::string kind = "none";  // "mbr", "gpt" or "none"
  uint32_t sector_size = 512;
  uint32_t disk_signature = 0;  // MBR
  std::string disk_guid;        // GPT
  bool hybrid_mbr = false;      // GPT with a protective MBR that also lists real partitions
  std::vector<Partition> partitions;
  std::vector<std::string> problems;  // damage found: bad CRCs, overlaps, entries past the end

  std::string role_of(const Partition& partition) const;
};

// Reads `length` bytes at byte `offset` of the disk (shorter at the end of the disk).
using ReadBytes = std::function<std::string(uint64_t offset, size_t length)>;

PartitionTable read_partition_table(const ReadBytes& read, uint64_t disk_size);

uint32_t crc32(std::string_view data);
std::string format_guid(std::string_view sixteen_bytes);  // mixed-endian, as GPT stores GUIDs

}  // namespace vmfix::disk
