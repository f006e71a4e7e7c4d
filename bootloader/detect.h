#pragma once
// Which boot loaders a guest has, found by their files.
#include <string>
#include <vector>

#include "guest/guest.h"

namespace vmfix::bootloader {

struct Bootloader {
  std::string kind;      // "grub2", "grub-legacy", "bls", "windows-boot-manager", "efi-fallback"
  std::string firmware;  // "bios", "uefi" or "" when the files do not say
  std::string config;    // the file that shows it (grub.cfg, menu.lst, an entries dir, BCD...)
  std::string location;  // "" for the OS tree, else the device of the filesystem holding it
};

// Looks under `root` (normally "/"), and labels what it finds with `location`.
std::vector<Bootloader> detect_bootloaders(guest::Guest& guest, const std::string& root = "/",
                                           const std::string& location = "");

}  // namespace vmfix::bootloader
