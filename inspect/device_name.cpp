#include "inspect/device_name.h"

#include "support/text.h"

namespace vmfix::inspect {
namespace {

// The kernel names 26 + 26² + 26³ sd disks with up to three letters; a guest never has more.
constexpr size_t kMaxDisks = 26 + 26 * 26 + 26 * 26 * 26;

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

// A device name read left to right: each step takes what it matches from the front, or nothing.
struct NameReader {
  std::string_view rest;
  bool take(std::string_view literal) {
    if (!rest.starts_with(literal)) return false;
    rest.remove_prefix(literal.size());
    return true;
  }
  std::string_view take_run(bool (*in_run)(char)) {  // the longest run, possibly empty
    size_t length = 0;
    while (length < rest.size() && in_run(rest[length])) ++length;
    const std::string_view run = rest.substr(0, length);
    rest.remove_prefix(length);
    return run;
  }
  std::string_view take_partition() {  // "pN", or nothing
    if (rest.size() < 2 || rest[0] != 'p' || !is_ascii_digit(rest[1])) return {};
    rest.remove_prefix(1);
    return take_run(is_ascii_digit);
  }
};

// a = 0, z = 25, aa = 26 (bijective base 26, as the kernel counts sd disks).
std::optional<size_t> disk_of_letters(std::string_view letters) {
  size_t index = 0;
  for (char letter : letters) {
    index = index * 26 + static_cast<size_t>(letter - 'a' + 1);
    if (index > kMaxDisks) return std::nullopt;
  }
  return index - 1;
}

std::optional<size_t> disk_of_number(std::string_view digits) {
  size_t index = 0;
  for (char digit : digits) {
    index = index * 10 + static_cast<size_t>(digit - '0');
    if (index >= kMaxDisks) return std::nullopt;
  }
  return index;
}

}  // namespace

std::optional<KernelDeviceName> parse_kernel_device_name(std::string_view spec) {
  NameReader name{spec};
  if (!name.take("/dev/")) return std::nullopt;
  KernelDeviceName device;
  if (name.take("sd") || name.take("hd") || name.take("vd") || name.take("xvd")) {
    const std::string_view letters = name.take_run(is_lower);
    if (letters.empty()) return std::nullopt;
    device.disk = disk_of_letters(letters);
    device.partition = name.take_run(is_ascii_digit);
  } else if (name.take("nvme")) {  // controller C, namespace N
    const std::string_view controller = name.take_run(is_ascii_digit);
    if (controller.empty() || !name.take("n") || name.take_run(is_ascii_digit).empty()) return std::nullopt;
    device.disk = disk_of_number(controller);
    device.partition = name.take_partition();
  } else if (name.take("cciss/c")) {  // controller C, disk D
    if (name.take_run(is_ascii_digit).empty() || !name.take("d")) return std::nullopt;
    const std::string_view disk = name.take_run(is_ascii_digit);
    if (disk.empty()) return std::nullopt;
    device.disk = disk_of_number(disk);
    device.partition = name.take_partition();
  } else {
    return std::nullopt;
  }
  if (!name.rest.empty()) return std::nullopt;
  return device;
}

std::string sd_disk_name(size_t index) {
  if (index >= kMaxDisks) return "";
  std::string letters;
  for (size_t n = index + 1; n > 0; n = (n - 1) / 26)
    letters.insert(letters.begin(), static_cast<char>('a' + (n - 1) % 26));
  return "sd" + letters;
}

}  // namespace vmfix::inspect
