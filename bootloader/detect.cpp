#include "bootloader/detect.h"

#include "support/text.h"

namespace vmfix::bootloader {

std::string_view to_string(BootMode mode) {
  switch (mode) {
    case BootMode::bios:
      return "bios";
    case BootMode::uefi:
      return "uefi";
    case BootMode::unknown:
      break;
  }
  return "unknown";
}

using guest::join_path;

namespace {

// Files under an EFI System Partition's EFI directory: vendor loaders and the fallback path.
void detect_efi_directory(guest::Guest& guest, const std::string& efi, const std::string& location,
                          std::vector<Bootloader>& found) {
  if (!guest.is_dir(efi)) return;
  for (const std::string& vendor : guest.ls(efi)) {
    const std::string directory = join_path(efi, vendor);
    if (!guest.is_dir(directory)) continue;
    if (equals_icase(vendor, "BOOT")) {
      for (const std::string& name : guest.ls(directory))
        if (equals_icase(name, "BOOTX64.EFI") || equals_icase(name, "BOOTAA64.EFI"))
          found.push_back({"efi-fallback", BootMode::uefi, join_path(directory, name), location});
      continue;
    }
    if (equals_icase(vendor, "Microsoft")) {
      std::string manager = guest.resolve_case(join_path(directory, "Boot/bootmgfw.efi"));
      if (guest.is_file(manager)) found.push_back({"windows-boot-manager", BootMode::uefi, manager, location});
      continue;
    }
    for (const std::string& name : guest.ls(directory)) {
      if (name == "grub.cfg" || equals_icase(name, "grubx64.efi")) {
        found.push_back({"grub2", BootMode::uefi, join_path(directory, name), location});
        break;
      }
    }
  }
}

}  // namespace

std::vector<Bootloader> detect_bootloaders(guest::Guest& guest, const std::string& root, const std::string& location) {
  std::vector<Bootloader> found;
  auto at = [&](std::string_view path) { return join_path(root, path.substr(1)); };

  for (const char* config : {"/boot/grub2/grub.cfg", "/boot/grub/grub.cfg"}) {
    if (!guest.is_file(at(config))) continue;
    std::string directory = at(config).substr(0, at(config).rfind('/'));
    bool bios_modules = guest.is_dir(join_path(directory, "i386-pc"));
    found.push_back({"grub2", bios_modules ? BootMode::bios : BootMode::unknown, at(config), location});
  }
  for (const char* config : {"/boot/grub/menu.lst", "/boot/grub/grub.conf"}) {
    if (guest.is_file(at(config))) {
      found.push_back({"grub-legacy", BootMode::bios, at(config), location});
      break;  // grub.conf and menu.lst are often the same file, linked
    }
  }
  if (!guest.files_in(at("/boot/loader/entries"), ".conf").empty())
    found.push_back({"bls", BootMode::unknown, at("/boot/loader/entries"), location});

  detect_efi_directory(guest, guest.resolve_case(at("/boot/efi/EFI")), location, found);
  detect_efi_directory(guest, guest.resolve_case(at("/EFI")), location, found);

  // Windows Boot Manager for BIOS: bootmgr and the BCD store at the root of the active partition.
  std::string bootmgr = guest.resolve_case(at("/bootmgr"));
  std::string bcd = guest.resolve_case(at("/Boot/BCD"));
  if (guest.is_file(bootmgr) && guest.is_file(bcd))
    found.push_back({"windows-boot-manager", BootMode::bios, bcd, location});
  return found;
}

}  // namespace vmfix::bootloader
