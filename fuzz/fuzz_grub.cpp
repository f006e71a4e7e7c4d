// GRUB configurations as guests have them: grub.cfg (kernel lines, timeouts, defaults, the names
// an appliance-run grub-mkconfig leaves), /etc/default/grub and its drop-ins, menu.lst, BLS
// entries, kernel command lines and the grubenv block. Properties: a second edit changes nothing;
// every Linux kernel line of an edited grub.cfg or menu.lst has the serial console and no menu
// waits too long; grub.cfg lines that are neither kernel lines nor timeouts come out byte for
// byte; an edited grubenv keeps its size and holds the value set. The first byte picks the file
// and the options.
#include <string>

#include "bootloader/grub_edit.h"
#include "fuzz/properties.h"
#include "support/error.h"

namespace {

using namespace vmfix::bootloader;
namespace fuzz = vmfix::fuzz;

std::string uuid_of(const std::string& device) {
  if (device.empty() || device.back() < '1' || device.back() > '9') return "";
  return "fuzz-" + device.substr(device.rfind('/') + 1);
}

void kernel_lines_are_ec2_ready(std::string_view config, MenuSyntax syntax, const char* what) {
  for (const std::string& line : linux_command_lines(config, syntax))
    fuzz::require(has_serial_console(line), std::string(what) + ": a kernel line lacks the serial console", line);
}

void grub_cfg(std::string_view text, const Ec2Args& ec2, bool timeouts) {
  const std::string out = ec2_grub_cfg(text, ec2, timeouts);
  fuzz::require_idempotent([&](std::string_view t) { return ec2_grub_cfg(t, ec2, timeouts); }, text, "grub.cfg");
  kernel_lines_are_ec2_ready(out, MenuSyntax::grub2, "grub.cfg");
  if (timeouts)
    for (int seconds : menu_timeouts(out, MenuSyntax::grub2))
      fuzz::require(!timeout_too_long(seconds), "grub.cfg: a timeout is still too long", std::to_string(seconds));
  fuzz::require_unowned_lines_kept(
      text, out,
      [](size_t, std::string_view line) {
        return line.find("linux") != std::string_view::npos || line.find("timeout") != std::string_view::npos;
      },
      "grub.cfg");
  grub_cfg_uses_saved_entry(out);
  device_names_in_menu(out);
}

void appliance_names(std::string_view text, uint8_t flags) {
  const GuestDisks disks{"fuzz-root", flags & 1 ? "fuzz-swap" : "", flags & 2 ? "linuxefi" : ""};
  fuzz::require_idempotent([&](std::string_view t) { return repair_appliance_names(t, disks); }, text,
                           "appliance names");
  fuzz::require_idempotent([](std::string_view t) { return with_grub_cfg_default(t, "0"); }, text, "grub.cfg default");
}

void grubenv(std::string_view text) {
  std::string block(text.substr(0, 1024));
  block.resize(1024, '#');
  parse_grubenv(block);
  const std::string value(text.substr(text.size() > 1024 ? 1024 : text.size(), 40));
  if (value.find('\n') != std::string::npos) return;
  try {
    const std::string out = grubenv_with(block, "saved_entry", value);
    fuzz::require(out.size() == block.size(), "grubenv: the block changed size");
    const auto vars = parse_grubenv(out);
    auto it = vars.find("saved_entry");
    fuzz::require(it != vars.end() && it->second == value, "grubenv: the value set does not read back", value);
  } catch (const vmfix::Error&) {
    // the variables no longer fit: said, not written
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Ec2Args ec2(uuid_of, flags & 0x10 ? "nvme_core.io_timeout=4294967295" : "");
  try {
    switch ((flags >> 5) & 7) {
      case 0:
        grub_cfg(text, ec2, flags & 1);
        break;
      case 1:
        appliance_names(text, flags);
        break;
      case 2: {
        const DefaultGrubEdit how{(flags & 1) != 0, (flags & 2) != 0};
        fuzz::require_idempotent([&](std::string_view t) { return ec2_default_grub(t, ec2, how); }, text,
                                 "/etc/default/grub");
        break;
      }
      case 3: {
        const int index = flags & 1 ? static_cast<int>(flags & 6) : -1;
        const std::string out = ec2_grub_legacy(text, ec2, index);
        fuzz::require_idempotent([&](std::string_view t) { return ec2_grub_legacy(t, ec2, index); }, text, "menu.lst");
        kernel_lines_are_ec2_ready(out, MenuSyntax::legacy, "menu.lst");
        break;
      }
      case 4:
        fuzz::require_idempotent([&](std::string_view t) { return ec2_bls_entry(t, ec2); }, text, "BLS entry");
        break;
      case 5: {
        const std::string args = ec2_kernel_args(text, ec2);
        fuzz::require(has_serial_console(args), "kernel arguments lack the serial console", args);
        fuzz::require_idempotent([&](std::string_view t) { return ec2_kernel_args(t, ec2); }, text, "kernel arguments");
        break;
      }
      default:
        grubenv(text);
    }
  } catch (const vmfix::Error&) {
  }
  return 0;
}
