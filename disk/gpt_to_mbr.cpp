#include "disk/gpt_to_mbr.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "disk/partition_types.h"
#include "support/bytes.h"
#include "support/text.h"

namespace vmfix::disk {

namespace {

constexpr uint64_t kMbrLimit = uint64_t{1} << 32;  // MBR stores starts and sizes in 32 bits
constexpr uint8_t kExtendedLba = 0x0f;
constexpr uint8_t kExtendedChained = 0x05;  // the link from one EBR to the next

// Partitions that hold nothing a guest reads once the disk is MBR.
enum class Drop { keep, bios_boot, msr };

struct Kept {
  const Partition* partition;
  uint8_t type;
};

Drop drop_of(std::string_view guid) {
  if (equals_icase(guid, kBiosBootGuid)) return Drop::bios_boot;
  if (equals_icase(guid, "E3C9E316-0B5C-4DB8-817D-F92DF00215AE")) return Drop::msr;
  return Drop::keep;
}

std::string describe(const Partition& p) {
  std::string_view role = role_of_gpt_type(p.gpt_type);
  return fmt::format("partition {} ({}{}{})", p.number, role.empty() ? p.gpt_type : std::string(role),
                     p.name.empty() ? "" : ", ", p.name);
}

// Cylinder/head/sector for the 255-head, 63-sector geometry every tool assumes, saturated past
// cylinder 1023 as the MBR convention says.
std::array<uint8_t, 3> chs(uint64_t lba) {
  constexpr uint64_t kHeads = 255, kSectors = 63;
  uint64_t cylinder = lba / (kHeads * kSectors);
  if (cylinder > 1023) return {0xfe, 0xff, 0xff};
  auto head = static_cast<uint8_t>((lba / kSectors) % kHeads);
  auto sector = static_cast<uint8_t>(lba % kSectors + 1);
  return {head, static_cast<uint8_t>(sector | ((cylinder >> 2) & 0xc0)), static_cast<uint8_t>(cylinder & 0xff)};
}

void put_le32(std::string& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

// One 16-byte MBR entry; `base` is the sector its start is counted from (0 in the MBR).
void put_entry(std::string& sector, size_t slot, bool active, uint8_t type, uint64_t first, uint64_t last,
               uint64_t base) {
  const size_t at = 446 + 16 * slot;
  sector[at] = static_cast<char>(active ? 0x80 : 0x00);
  auto start_chs = chs(first), end_chs = chs(last);
  for (size_t i = 0; i < 3; ++i) {
    sector[at + 1 + i] = static_cast<char>(start_chs[i]);
    sector[at + 5 + i] = static_cast<char>(end_chs[i]);
  }
  sector[at + 4] = static_cast<char>(type);
  put_le32(sector, at + 8, static_cast<uint32_t>(first - base));
  put_le32(sector, at + 12, static_cast<uint32_t>(last - first + 1));
}

void sign(std::string& sector) {
  sector[510] = static_cast<char>(0x55);
  sector[511] = static_cast<char>(0xaa);
}

// Which of the kept partitions (in disk order) become logical: a run [first, last) whose
// members each have a free sector before them for their EBR, leaving at most three primaries
// beside the extended partition and the active partition primary. The run that keeps the most
// primaries at the end of the disk wins: that is the layout installers make.
std::optional<std::pair<size_t, size_t>> logical_run(const std::vector<Kept>& kept, int active) {
  const size_t n = kept.size();
  auto has_ebr_room = [&](size_t k) {
    uint64_t ebr = kept[k].partition->first_sector - 1;
    return ebr >= 1 && (k == 0 || ebr > kept[k - 1].partition->last_sector);
  };
  std::optional<std::pair<size_t, size_t>> best;
  for (size_t last = n; last >= 1; --last) {
    for (size_t first = last; first-- > 0;) {
      if (n - (last - first) > 3) continue;
      bool fits = true;
      for (size_t k = first; k < last && fits; ++k) fits = has_ebr_room(k) && kept[k].partition->number != active;
      if (!fits) break;  // a longer run starting further left includes this failure
      best = {first, last};
      break;  // the shortest valid run ending at `last`: the most primaries
    }
    if (best) return best;
  }
  return std::nullopt;
}

}  // namespace

bool is_dynamic_disk_type(std::string_view guid) {
  return equals_icase(guid, "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3") ||  // LDM metadata
         equals_icase(guid, "AF9B60A0-1431-4F62-BC68-3311714A69AD");    // LDM data
}

uint8_t mbr_type_for_gpt(std::string_view guid) {
  static constexpr std::array<std::pair<std::string_view, uint8_t>, 21> kTypes{{
      {kEspGuid, 0xef},
      {"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", 0x07},  // Microsoft basic data
      {"DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", 0x27},  // Windows recovery
      {"0FC63DAF-8483-4772-8E79-3D69D8477DE4", 0x83},  // Linux filesystem
      {"44479540-F297-41B2-9AF7-D131D5F0458A", 0x83},  // Linux root (x86)
      {"4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", 0x83},  // Linux root (x86-64)
      {"B921B045-1DF0-41C3-AF44-4C6F280D3FAE", 0x83},  // Linux root (arm64)
      {"933AC7E1-2EB4-4F13-B844-0E14E2AEF915", 0x83},  // Linux /home
      {"3B8F8425-20E0-4F3B-907F-1A25A76F98E8", 0x83},  // Linux /srv
      {"4D21B016-B534-45C2-A9FB-5C16E091FD2D", 0x83},  // Linux /var
      {"7EC6F557-3BC5-4ACA-B293-16EF5DF639D1", 0x83},  // Linux /var/tmp
      {"773F91EF-66D4-49B5-BD83-D683BF40AD16", 0x83},  // Linux per-user home
      {"8DA63339-0007-60C0-C436-083AC8230908", 0x83},  // Linux reserved
      {"7FFEC5C9-2D00-49B7-8941-3EA10A5586B7", 0x83},  // Linux dm-crypt
      {"CA7D7CCB-63ED-4C53-861C-1742536059CC", 0x83},  // Linux LUKS
      {"BC13C2FF-59E6-4262-A352-B275FD6F7172", 0xea},  // Linux extended boot (XBOOTLDR)
      {"0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", 0x82},  // Linux swap
      {"E6D6D379-F507-44C2-A23C-238F2A3DF928", 0x8e},  // Linux LVM
      {"A19D880F-05FC-4D3B-A006-743F0F84911E", 0xfd},  // Linux RAID
      {"516E7CB4-6ECF-11D6-8FF8-00022D09712B", 0xa5},  // FreeBSD data
      {"48465300-0000-11AA-AA11-00306543ECAC", 0xaf},  // Apple HFS+
  }};
  for (const auto& [known, type] : kTypes)
    if (equals_icase(known, guid)) return type;
  return 0;
}

namespace {

// What about the table itself stops a conversion.
void table_reasons(const PartitionTable& gpt, std::vector<std::string>& reasons) {
  if (gpt.sector_size != 512)
    reasons.push_back(
        fmt::format("the disk has {}-byte logical sectors; an MBR for a disk that EC2 presents with "
                    "512-byte sectors would need every partition moved",
                    gpt.sector_size));
  if (!gpt.problems.empty())
    reasons.push_back(fmt::format("the GPT is damaged ({}); vmfix converts only a table it can trust",
                                  fmt::join(gpt.problems, "; ")));
}

// The partitions an MBR keeps, in disk order, with their MBR types; the dropped ones go to the
// plan, the ones that cannot be kept to the reasons.
std::vector<Kept> kept_partitions(const PartitionTable& gpt, MbrPlan& plan, std::vector<std::string>& reasons) {
  std::vector<Kept> kept;
  for (const Partition& p : gpt.partitions) {
    switch (drop_of(p.gpt_type)) {
      case Drop::bios_boot:
        plan.dropped.push_back(
            fmt::format("{}: dropped, GRUB's core image moves to the gap after the MBR", describe(p)));
        continue;
      case Drop::msr:
        plan.dropped.push_back(fmt::format("{}: dropped, it holds no data and MBR disks have none", describe(p)));
        continue;
      case Drop::keep:
        break;
    }
    if (is_dynamic_disk_type(p.gpt_type)) {
      reasons.push_back(
          fmt::format("{} belongs to a Windows dynamic disk (LDM), which has no MBR form here", describe(p)));
      continue;
    }
    uint8_t type = mbr_type_for_gpt(p.gpt_type);
    if (type == 0) {
      reasons.push_back(fmt::format("{} has the type GUID {}, which has no MBR type", describe(p), p.gpt_type));
      continue;
    }
    if (p.last_sector >= kMbrLimit)
      reasons.push_back(fmt::format("{} ends at sector {}, beyond the 2^32 sectors (2 TiB) an MBR can address",
                                    describe(p), p.last_sector));
    kept.push_back({&p, type});
  }
  std::sort(kept.begin(), kept.end(),
            [](const Kept& a, const Kept& b) { return a.partition->first_sector < b.partition->first_sector; });
  return kept;
}

// The MBR entries for the kept partitions; [run_first, run_last) become logical partitions.
// Primary slots keep the GPT numbers when they fit (so /dev/sda2 stays /dev/sda2 for any
// configuration that names it); otherwise primaries and logicals are numbered in disk order.
void plan_entries(const std::vector<Kept>& kept, int active, size_t run_first, size_t run_last, MbrPlan& plan) {
  const bool keep_numbers =
      kept.size() <= 4 && std::all_of(kept.begin(), kept.end(), [](const Kept& k) { return k.partition->number <= 4; });
  int next_primary = 1, next_logical = 5;
  for (size_t k = 0; k < kept.size(); ++k) {
    const Partition& p = *kept[k].partition;
    MbrEntry entry;
    entry.gpt_number = p.number;
    entry.first_sector = p.first_sector;
    entry.last_sector = p.last_sector;
    entry.type = kept[k].type;
    entry.active = p.number == active;
    entry.logical = k >= run_first && k < run_last;
    entry.number = keep_numbers ? p.number : entry.logical ? next_logical++ : next_primary++;
    plan.entries.push_back(entry);
  }
  if (run_first < run_last) {
    plan.extended_first = kept[run_first].partition->first_sector - 1;
    plan.extended_last = kept[run_last - 1].partition->last_sector;
  }
  std::stable_partition(plan.entries.begin(), plan.entries.end(), [](const MbrEntry& e) { return !e.logical; });
}

}  // namespace

GptToMbrResult plan_gpt_to_mbr(const PartitionTable& gpt, const GptToMbrRequest& request) {
  GptToMbrResult result;
  auto& reasons = result.reasons;
  MbrPlan& plan = result.plan;
  if (gpt.kind != "gpt") {
    reasons.push_back(fmt::format("the disk has no GPT to convert (its partition table is {})", gpt.kind));
    return result;
  }
  table_reasons(gpt, reasons);
  const std::vector<Kept> kept = kept_partitions(gpt, plan, reasons);
  if (kept.empty() && reasons.empty()) reasons.push_back("no partition would remain on the disk");
  if (!reasons.empty()) return result;

  const int active = request.active_gpt_number;
  if (active != 0 &&
      std::none_of(kept.begin(), kept.end(), [&](const Kept& k) { return k.partition->number == active; }))
    reasons.push_back(fmt::format("the boot partition {} would not remain on the disk", active));

  size_t run_first = kept.size(), run_last = kept.size();
  if (kept.size() > 4) {
    auto run = logical_run(kept, active);
    if (!run) {
      reasons.push_back(fmt::format(
          "{} partitions would remain; an MBR holds four primary partitions, and the others can become logical "
          "partitions only when each is preceded by a free sector for its extended boot record and the boot "
          "partition stays primary, which this layout does not allow",
          kept.size()));
      return result;
    }
    std::tie(run_first, run_last) = *run;
  }
  plan_entries(kept, active, run_first, run_last, plan);

  plan.embed_sectors = kept.front().partition->first_sector - 1;
  if (request.embed_sectors_needed > plan.embed_sectors)
    reasons.push_back(
        fmt::format("the gap between the MBR and the first partition ({} sectors) cannot hold the boot "
                    "loader's core image ({} sectors)",
                    plan.embed_sectors, request.embed_sectors_needed));

  plan.disk_signature = request.disk_signature;
  if (plan.disk_signature == 0) plan.disk_signature = crc32(gpt.disk_guid);
  if (plan.disk_signature == 0) plan.disk_signature = 0x766d6678;  // "vmfx", for the one GUID whose CRC is 0
  result.possible = reasons.empty();
  return result;
}

std::vector<SectorWrite> encode_mbr(const MbrPlan& plan, std::string_view old_sector0) {
  std::string mbr(512, '\0');
  std::copy_n(old_sector0.begin(), std::min<size_t>(440, old_sector0.size()), mbr.begin());
  put_le32(mbr, 440, plan.disk_signature);
  std::array<bool, 4> used{};
  for (const MbrEntry& e : plan.entries) {
    if (e.logical) continue;
    put_entry(mbr, static_cast<size_t>(e.number - 1), e.active, e.type, e.first_sector, e.last_sector, 0);
    used[static_cast<size_t>(e.number - 1)] = true;
  }
  std::vector<SectorWrite> writes;
  std::vector<const MbrEntry*> logicals;
  for (const MbrEntry& e : plan.entries)
    if (e.logical) logicals.push_back(&e);
  if (!logicals.empty()) {
    size_t slot = static_cast<size_t>(std::find(used.begin(), used.end(), false) - used.begin());
    put_entry(mbr, slot, false, kExtendedLba, plan.extended_first, plan.extended_last, 0);
    for (size_t i = 0; i < logicals.size(); ++i) {
      const MbrEntry& e = *logicals[i];
      const uint64_t ebr = e.first_sector - 1;
      std::string sector(512, '\0');
      put_entry(sector, 0, e.active, e.type, e.first_sector, e.last_sector, ebr);
      if (i + 1 < logicals.size()) {
        const MbrEntry& next = *logicals[i + 1];
        put_entry(sector, 1, false, kExtendedChained, next.first_sector - 1, next.last_sector, plan.extended_first);
      }
      sign(sector);
      writes.push_back({ebr * 512, std::move(sector)});
    }
  }
  sign(mbr);
  writes.insert(writes.begin(), SectorWrite{0, std::move(mbr)});
  return writes;
}

std::vector<SectorWrite> gpt_wipes(const ReadBytes& read, uint64_t disk_size, const MbrPlan& plan) {
  const uint64_t sectors = disk_size / 512;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // inclusive sector ranges
  auto add_header = [&](uint64_t lba) {
    std::string header = read(lba * 512, 512);
    if (header.size() < 92 || header.compare(0, 8, "EFI PART") != 0) return;
    ranges.emplace_back(lba, lba);
    const uint64_t entries = le64(header, 72);
    const uint64_t bytes = uint64_t{le32(header, 80)} * le32(header, 84);
    const uint64_t count = std::min<uint64_t>((bytes + 511) / 512, 1024);
    if (count > 0 && entries >= 1 && entries < sectors)
      ranges.emplace_back(entries, std::min(entries + count, sectors) - 1);
  };
  add_header(1);
  if (sectors > 1) add_header(sectors - 1);

  auto in_use = [&](uint64_t lba) {
    if (lba == 0) return true;
    for (const MbrEntry& e : plan.entries)
      if ((lba >= e.first_sector && lba <= e.last_sector) || (e.logical && lba == e.first_sector - 1)) return true;
    return false;
  };
  std::vector<SectorWrite> writes;
  for (const auto& [first, last] : ranges) {
    uint64_t run = first;
    for (uint64_t lba = first; lba <= last + 1; ++lba) {
      if (lba <= last && !in_use(lba)) continue;
      if (lba > run) writes.push_back({run * 512, std::string((lba - run) * 512, '\0')});
      run = lba + 1;
    }
  }
  return writes;
}

std::string mbr_partuuid(uint32_t disk_signature, int number) {
  return fmt::format("{:08x}-{:02x}", disk_signature, number);
}

namespace {

// The names below are matched by hand, not with std::regex: its matcher recurses once per
// character a repetition takes, and a guest's grub.cfg holding "hd" and a hundred thousand digits
// overflowed the stack.

// `text` with the occurrences of `needle` that `takes(at, from)` accepts replaced by `by`, in one
// pass over the original text as std::regex_replace makes it: `from` is where the text after the
// previous replacement starts, and no match may begin before it. (Replacing in place moved the
// rest of the file at each match: quadratic on a large grub.cfg full of matches.)
template <class Takes>
std::string replaced(std::string_view text, std::string_view needle, std::string_view by, bool icase, Takes takes) {
  auto find = [&](size_t from) { return icase ? find_icase(text, needle, from) : text.find(needle, from); };
  std::string out;
  size_t copied = 0;
  for (size_t at = find(0); at != std::string_view::npos;) {
    if (!takes(at, copied)) {
      at = find(at + 1);
      continue;
    }
    out.append(text.substr(copied, at - copied)).append(by);
    copied = at + needle.size();
    at = find(copied);
  }
  return out.append(text.substr(copied));
}

// GUID, after "PARTUUID=", "PARTUUID=\"" or "by-partuuid/" (any case), becomes `partuuid`.
std::string renamed_partuuid(std::string_view text, std::string_view guid, std::string_view partuuid) {
  return replaced(text, guid, partuuid, true, [&](size_t at, size_t from) {
    for (std::string_view prefix : {"PARTUUID=", "PARTUUID=\"", "by-partuuid/"})
      if (at >= from + prefix.size() && equals_icase(text.substr(at - prefix.size(), prefix.size()), prefix))
        return true;
    return false;
  });
}

// "hdN,gptM" becomes "hdN,msdosK": N one or more digits, M not followed by a letter, digit or '_'.
std::string renamed_hint(std::string_view text, int gpt_number, int mbr_number) {
  const std::string from = "gpt" + std::to_string(gpt_number), to = "msdos" + std::to_string(mbr_number);
  return replaced(text, from, to, false, [&](size_t at, size_t start) {
    const size_t end = at + from.size();
    if ((end < text.size() && is_word_char(text[end])) || at == 0 || text[at - 1] != ',') return false;
    size_t digits = at - 1;
    while (digits > 0 && is_ascii_digit(text[digits - 1])) --digits;
    return digits < at - 1 && digits >= start + 2 && text.substr(digits - 2, 2) == "hd";
  });
}

// `word` where it stands alone (no letter, digit or '_' on either side) becomes `by`.
std::string renamed_word(std::string_view text, std::string_view word, std::string_view by) {
  return replaced(text, word, by, false, [&](size_t at, size_t) {
    const size_t end = at + word.size();
    return (at == 0 || !is_word_char(text[at - 1])) && (end == text.size() || !is_word_char(text[end]));
  });
}

}  // namespace

std::string with_mbr_names(std::string text, const PartitionTable& gpt, const MbrPlan& plan) {
  for (const MbrEntry& e : plan.entries) {
    auto source = std::find_if(gpt.partitions.begin(), gpt.partitions.end(),
                               [&](const Partition& p) { return p.number == e.gpt_number; });
    if (source != gpt.partitions.end() && !source->gpt_guid.empty())
      text = renamed_partuuid(text, source->gpt_guid, mbr_partuuid(plan.disk_signature, e.number));
    text = renamed_hint(text, e.gpt_number, e.number);
  }
  return renamed_word(text, "part_gpt", "part_msdos");
}

}  // namespace vmfix::disk
