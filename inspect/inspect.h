#pragma once
// Inspection over a launched appliance: Windows and Debian-family Linux read directly, any other
// guest through libguestfs's OS inspection, plus our own probes.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guest/session.h"
#include "inspect/facts.h"

namespace vmfix::inspect {

enum class MountMode { read_only, read_write };

// Inspects the guest on `session`'s disks (sources[i] names disk i) and leaves its filesystems
// mounted at their guest mountpoints, ready for the checks and fixers. A disk with no operating
// system that libguestfs recognises is a BadInput.
// `guest`, when given, is what reads the guest's configuration once it is mounted (a CachedGuest
// the fixers use afterwards: hives then cross the appliance once).
Facts inspect_guest(guest::Session& session, const std::vector<std::string>& sources, MountMode mode,
                    guest::Guest* guest = nullptr);

// Reads again what fixers can change (network, tools, registry, kernels, free space), without
// redoing the slow OS inspection: the re-check after fixing.
// `guest` is the session's guest as the fixers saw it (a CachedGuest serves hives from the host).
void refresh_facts(guest::Session& session, guest::Guest& guest, Facts& facts);

// Boot mode from the partition tables and the boot loaders found (pure; unit-tested).
void derive_boot_mode(Facts& facts);

// The disk holding the root filesystem's partition; the first disk when root is on LVM or RAID.
const DiskFacts* boot_disk(const Facts& facts);

// From an ext2/3/4 superblock (the 1 KiB at byte 1024 of the filesystem): false when it was not
// unmounted cleanly (its state lacks "valid", has "errors", or its journal needs recovery), as
// tune2fs -l reports it; nullopt when these are not an ext superblock's bytes.
std::optional<bool> ext_superblock_clean(std::string_view superblock);

}  // namespace vmfix::inspect
