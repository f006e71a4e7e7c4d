#pragma once
// Installed Linux kernels and the entry the boot loader starts by default: what AWS's importer
// looks for ("Unable to determine kernel version", "Unsupported kernel version X").
#include <optional>
#include <string>
#include <vector>

#include "bootloader/detect.h"
#include "guest/guest.h"
#include "support/text.h"

namespace vmfix::bootloader {

struct Kernel {
  std::string version;   // "3.10.0-1160.el7.x86_64"
  std::string path;      // "/boot/vmlinuz-3.10.0-1160.el7.x86_64"
  std::string initrd;    // guest path, "" when none is installed beside it
  bool modules = false;  // /lib/modules/VERSION exists
};

struct BootEntry {
  std::string title;
  std::string id;      // BLS entry id (file name without .conf), "" otherwise
  std::string kernel;  // as written in the config
  std::string initrd;
  std::string options;  // kernel command line
  std::string path;     // GRUB's menu path for `default`/saved_entry: "0", "1>2"
};

struct BootConfig {
  std::string kind;    // "grub2", "grub-legacy", "bls" (grub2 reading /boot/loader/entries)
  std::string config;  // the file read
  std::vector<BootEntry> entries;
  std::optional<size_t> default_entry;  // index into entries
  std::string default_evidence;         // how the default was found, or why it was not
};

// vmlinuz-* (and kernel-*, bzImage-*) under /boot, newest version first.
std::vector<Kernel> installed_kernels(guest::Guest& guest);

// The boot menu of the OS's own GRUB (BLS entries when grub.cfg uses blscfg); nullopt when the
// guest has no GRUB config in its tree.
std::optional<BootConfig> read_boot_config(guest::Guest& guest, const std::vector<Bootloader>& loaders);

// The guest path of a kernel or initrd named in a boot entry: "/vmlinuz-X" is relative to the
// filesystem GRUB reads, which is /boot when /boot is its own partition. "" when neither exists.
std::string resolve_boot_path(guest::Guest& guest, const std::string& path);

// "vmlinuz-4.15.0-213-generic" -> "4.15.0-213-generic"; "" for names that hold no version.
std::string kernel_version_of(const std::string& path);

using vmfix::version_less;  // support/text.h

}  // namespace vmfix::bootloader
