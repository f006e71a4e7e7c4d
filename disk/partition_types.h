#pragma once
// What a partition is for, from its MBR type byte or GPT type GUID.
#include <cstdint>
#include <string>
#include <string_view>

namespace vmfix::disk {

// "esp", "bios-boot", "linux", "linux-root", "linux-boot", "swap", "lvm", "raid", "ntfs"
// (basic data / NTFS / exFAT), "fat", "msr", "recovery", "extended", or "" when unknown.
std::string_view role_of_mbr_type(uint8_t type);
std::string_view role_of_gpt_type(std::string_view guid);  // any case

inline constexpr std::string_view kEspGuid = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
inline constexpr std::string_view kBiosBootGuid = "21686148-6449-6E6F-744E-656564454649";

}  // namespace vmfix::disk
