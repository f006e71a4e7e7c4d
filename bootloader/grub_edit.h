#pragma once
// The text edits that make a GRUB configuration boot unattended on EC2: the kernel's console on
// ttyS0 (EC2's console output and serial console read it) with tty0 kept, root= and resume= by
// UUID (disk names change on Xen and Nitro), and a menu timeout that does not stall the boot.
// Each edit keeps comments, order and every unrelated setting, and is idempotent.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vmfix::bootloader {

// The UUID of the filesystem a kernel device name ("/dev/sda3") holds; "" for anything else.
using DeviceUuid = std::function<std::string(const std::string& device)>;

inline constexpr int kMaxTimeout = 5;  // seconds; longer (or -1, wait forever) is shortened
inline constexpr int kTimeout = 1;
inline constexpr std::string_view kSerialConsole = "console=ttyS0,115200";

// A kernel command line with a ttyS0 console (console=tty0 first, so both get the messages and
// /dev/console is the serial port) and device names in root=/resume= replaced by UUID=.
std::string ec2_kernel_args(std::string_view args, const DeviceUuid& uuid_of);
bool has_serial_console(std::string_view args);

// /etc/default/grub: GRUB_CMDLINE_LINUX gets the console (unless GRUB_CMDLINE_LINUX_DEFAULT has
// it), root=/resume= by UUID in both, GRUB_TIMEOUT shortened, a GRUB_DEFAULT naming no entry
// (`stale_default`) becomes 0.
std::string ec2_default_grub(std::string_view text, const DeviceUuid& uuid_of, bool stale_default = false);

// grub.cfg (GRUB 2), edited in place: linux/linux16/linuxefi lines of Linux kernels, and `set
// timeout` unless `timeouts` is false (a generated grub.cfg takes them from /etc/default/grub).
std::string ec2_grub_cfg(std::string_view text, const DeviceUuid& uuid_of, bool timeouts = true);
// grub.cfg's non-saved `set default=` lines set to `value` ("0", "1>2", an id).
std::string with_grub_cfg_default(std::string_view text, const std::string& value);
// True when grub.cfg takes its default from grubenv (set default="${saved_entry}").
bool grub_cfg_uses_saved_entry(std::string_view text);

// menu.lst / grub.conf (GRUB legacy): kernel lines, timeout=; default= set when `default_index` >= 0.
std::string ec2_grub_legacy(std::string_view text, const DeviceUuid& uuid_of, int default_index = -1);

// A BLS entry (/boot/loader/entries/*.conf): its options line, unless it is "$kernelopts".
std::string ec2_bls_entry(std::string_view text, const DeviceUuid& uuid_of);

// The Linux kernel lines' command lines in a grub.cfg or menu.lst (memtest and other non-Linux
// payloads left out): what a check reads.
std::vector<std::string> linux_command_lines(std::string_view config);
// The timeouts a grub.cfg (`set timeout=`) or menu.lst (`timeout`) sets.
std::vector<int> menu_timeouts(std::string_view config);
bool timeout_too_long(int seconds);

// The GRUB environment block (grubenv): KEY=VALUE lines padded with '#' to its size, 1024 bytes.
std::map<std::string, std::string> parse_grubenv(std::string_view block);
// `block` with `key` set; the block keeps its size. Throws vmfix::Error when the variables no
// longer fit.
std::string grubenv_with(std::string_view block, const std::string& key, const std::string& value);

}  // namespace vmfix::bootloader
