#pragma once
// GPT to MBR without moving data: which partitions can stay, in which MBR slots, with which type
// bytes; the sectors to write for the new MBR and its extended boot records; the GPT structures
// to wipe. Pure functions over a parsed table, so every "not possible" has a unit test.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "disk/partition_table.h"

namespace vmfix::disk {

struct MbrEntry {
  int number = 0;      // as Linux will number it: 1-4 primary, 5+ logical
  int gpt_number = 0;  // the GPT entry it came from
  uint64_t first_sector = 0;
  uint64_t last_sector = 0;  // inclusive
  uint8_t type = 0;
  bool active = false;
  bool logical = false;
};

struct MbrPlan {
  std::vector<MbrEntry> entries;     // primaries first, then logicals, each in disk order
  std::vector<std::string> dropped;  // GPT partitions left out, each with why
  uint32_t disk_signature = 0;
  uint64_t extended_first = 0;  // the extended partition, when there are logical ones
  uint64_t extended_last = 0;
  uint64_t embed_sectors = 0;  // free sectors between the MBR and the first partition
};

struct GptToMbrRequest {
  int active_gpt_number = 0;          // the partition holding /boot (or /); 0 for none
  uint64_t embed_sectors_needed = 0;  // the boot loader's core image that goes after the MBR; 0: none
  uint32_t disk_signature = 0;        // 0: taken from the GPT disk GUID
};

struct GptToMbrResult {
  bool possible = false;
  MbrPlan plan;
  std::vector<std::string> reasons;  // when not possible: every reason, each a full sentence
};

// A Windows dynamic disk's partition (LDM metadata or data): it has no MBR form.
bool is_dynamic_disk_type(std::string_view type_guid);

// The MBR type byte for a GPT type GUID (as gdisk maps them); 0 when there is no MBR equivalent.
uint8_t mbr_type_for_gpt(std::string_view type_guid);

GptToMbrResult plan_gpt_to_mbr(const PartitionTable& gpt, const GptToMbrRequest& request);

struct SectorWrite {
  uint64_t offset = 0;  // bytes
  std::string bytes;
};

// The new MBR (keeping the first 440 bytes of boot code from `old_sector0`) and one EBR per
// logical partition.
std::vector<SectorWrite> encode_mbr(const MbrPlan& plan, std::string_view old_sector0);

// Zeroes for both GPT headers and both entry arrays, read from the primary header (and the
// backup header at the last sector), so no tool finds a stale GPT afterwards. Never touches a
// sector inside a partition of `plan`.
std::vector<SectorWrite> gpt_wipes(const ReadBytes& read, uint64_t disk_size, const MbrPlan& plan);

// "1a2b3c4d-02": the PARTUUID Linux gives an MBR partition.
std::string mbr_partuuid(uint32_t disk_signature, int number);

// A configuration file's text (fstab, crypttab, grub.cfg, grubenv, a kernel command line) with
// the GPT's names for the partitions of `plan` turned into the MBR's: PARTUUID=<GUID> (quoted or
// not) and by-partuuid/<GUID>, in any case, name the MBR partition's PARTUUID; GRUB's hints
// "hdN,gptM" become "hdN,msdosK"; the module part_gpt becomes part_msdos.
std::string with_mbr_names(std::string text, const PartitionTable& gpt, const MbrPlan& plan);

}  // namespace vmfix::disk
