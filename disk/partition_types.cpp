#include "disk/partition_types.h"

#include <array>
#include <utility>

#include "support/text.h"

namespace vmfix::disk {

std::string_view role_of_mbr_type(uint8_t type) {
  switch (type) {
    case 0x83:
      return "linux";
    case 0x82:
      return "swap";
    case 0x8e:
      return "lvm";
    case 0xfd:
      return "raid";
    case 0x07:
      return "ntfs";
    case 0x01:
    case 0x04:
    case 0x06:
    case 0x0b:
    case 0x0c:
    case 0x0e:
      return "fat";
    case 0x05:
    case 0x0f:
    case 0x85:
      return "extended";
    case 0x27:
      return "recovery";
    case 0xef:
      return "esp";
    case 0xee:
      return "gpt-protective";
    default:
      return "";
  }
}

std::string_view role_of_gpt_type(std::string_view guid) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes{{
      {kEspGuid, "esp"},
      {kBiosBootGuid, "bios-boot"},
      {"E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "msr"},
      {"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "ntfs"},
      {"DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "recovery"},
      {"0FC63DAF-8483-4772-8E79-3D69D8477DE4", "linux"},
      {"4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "linux-root"},
      {"BC13C2FF-59E6-4262-A352-B275FD6F7172", "linux-boot"},
      {"933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "linux"},
      {"0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "swap"},
      {"E6D6D379-F507-44C2-A23C-238F2A3DF928", "lvm"},
      {"A19D880F-05FC-4D3B-A006-743F0F84911E", "raid"},
  }};
  for (const auto& [known, role] : kTypes)
    if (equals_icase(known, guid)) return role;
  return "";
}

}  // namespace vmfix::disk
