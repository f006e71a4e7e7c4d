// Partition tables as a disk holds them: MBR with chains of extended boot records, GPT with 512
// and 4096-byte sectors, hybrids. A GPT is read twice, as found and with its CRCs made right, so
// the fuzzer gets past the checksums. Where GPT-to-MBR is possible, the plan is written to a copy
// of the disk and read back: it must be an MBR with the plan's partitions, and no write may land
// inside a partition.
#include <cstring>
#include <string>

#include "disk/gpt_to_mbr.h"
#include "disk/partition_table.h"
#include "fuzz/properties.h"
#include "support/error.h"

namespace {

using namespace vmfix::disk;
namespace fuzz = vmfix::fuzz;

uint32_t le32(const std::string& d, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, d.data() + at, 4);
  return v;
}
uint64_t le64(const std::string& d, size_t at) {
  uint64_t v = 0;
  std::memcpy(&v, d.data() + at, 8);
  return v;
}
void put32(std::string& d, size_t at, uint32_t v) { std::memcpy(d.data() + at, &v, 4); }

// The primary header's and entry array's CRCs recomputed, where both are inside the disk.
void repair_crcs(std::string& disk, size_t sector) {
  if (disk.size() < 2 * sector || disk.compare(sector, 8, "EFI PART") != 0) return;
  const uint32_t header_size = le32(disk, sector + 12);
  const uint64_t entries_at = le64(disk, sector + 72) * sector;
  const uint64_t entries_size = uint64_t{le32(disk, sector + 80)} * le32(disk, sector + 84);
  if (entries_at < disk.size() && entries_size <= disk.size() - entries_at)
    put32(disk, sector + 88, crc32(std::string_view(disk).substr(entries_at, entries_size)));
  if (header_size < 92 || header_size > sector) return;
  put32(disk, sector + 16, 0);
  put32(disk, sector + 16, crc32(std::string_view(disk).substr(sector, header_size)));
}

ReadBytes reader(const std::string& disk) {
  return [&disk](uint64_t offset, size_t length) {
    if (offset >= disk.size()) return std::string();
    return disk.substr(offset, std::min<uint64_t>(length, disk.size() - offset));
  };
}

bool inside_a_partition(const MbrPlan& plan, uint64_t first_byte, uint64_t last_byte, uint32_t sector) {
  for (const MbrEntry& entry : plan.entries)
    if (first_byte <= (entry.last_sector + 1) * sector - 1 && last_byte >= entry.first_sector * sector) return true;
  return false;
}

void convert_and_read_back(const std::string& disk, const PartitionTable& gpt, uint8_t choice) {
  GptToMbrRequest request;
  if (!gpt.partitions.empty()) request.active_gpt_number = gpt.partitions[choice % gpt.partitions.size()].number;
  request.embed_sectors_needed = choice & 0x80 ? 64 : 0;
  const GptToMbrResult result = plan_gpt_to_mbr(gpt, request);
  if (!result.possible) return;
  std::string converted = disk;
  std::vector<SectorWrite> writes = encode_mbr(result.plan, disk.substr(0, 512));
  const std::vector<SectorWrite> wipes = gpt_wipes(reader(disk), disk.size(), result.plan);
  writes.insert(writes.end(), wipes.begin(), wipes.end());
  for (const SectorWrite& write : writes) {
    fuzz::require(write.offset <= converted.size() && write.bytes.size() <= converted.size() - write.offset,
                  "GPT to MBR writes past the end of the disk");
    fuzz::require(write.bytes.empty() || !inside_a_partition(result.plan, write.offset,
                                                             write.offset + write.bytes.size() - 1, gpt.sector_size),
                  "GPT to MBR writes inside a partition", std::to_string(write.offset));
    converted.replace(write.offset, write.bytes.size(), write.bytes);
  }
  const PartitionTable mbr = read_partition_table(reader(converted), converted.size());
  fuzz::require(mbr.kind == "mbr", "the converted disk does not read as MBR", mbr.kind);
  fuzz::require(mbr.partitions.size() >= result.plan.entries.size(), "the MBR lost partitions");
  for (const MbrEntry& entry : result.plan.entries) {
    bool found = false;
    for (const Partition& p : mbr.partitions)
      found = found || (p.number == entry.number && p.first_sector == entry.first_sector &&
                        p.last_sector == entry.last_sector && p.mbr_type == entry.type);
    fuzz::require(found, "a planned partition does not read back", std::to_string(entry.number));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string disk(reinterpret_cast<const char*>(data), size);
  try {
    read_partition_table(reader(disk), disk.size());
    for (size_t sector : {size_t{512}, size_t{4096}}) {
      std::string repaired = disk;
      repair_crcs(repaired, sector);
      const PartitionTable table = read_partition_table(reader(repaired), repaired.size());
      for (const Partition& p : table.partitions) table.role_of(p);
      if (table.kind == "gpt" && table.problems.empty())
        convert_and_read_back(repaired, table, size > 0 ? data[size - 1] : 0);
    }
  } catch (const vmfix::Error&) {
  }
  return 0;
}
