#pragma once
// Which boot loaders a guest has, found by their files.
#include <string>
#include <string_view>
#include <vector>

#include "guest/guest.h"

namespace vmfix::bootloader {

// The firmware a guest boots with (and a boot loader is built for); unknown when nothing says.
enum class BootMode { unknown, bios, uefi };
// "unknown", "bios", "uefi": the JSON report's words.
std::string_view to_string(BootMode mode);

struct Bootloader {
  std::string kind;      // "grub2", "grub-legacy", "bls", "windows-boot-manager", "efi-fallback"
  BootMode firmware;     // unknown when the files do not say
  std::string config;    // the file that shows it (grub.cfg, menu.lst, an entries dir, BCD...)
  std::string location;  // "" for the OS tree, else the device of the filesystem holding it
};

// Looks under `root` (normally "/"), and labels what it finds with `location`.
std::vector<Bootloader> detect_bootloaders(guest::Guest& guest, const std::string& root = "/",
                                           const std::string& location = "");

}  // namespace vmfix::bootloader
