#pragma once
// The text edits that make a GRUB configuration boot unattended on EC2: the kernel's console on
// ttyS0 (EC2's console output and serial console read it) with tty0 kept, root= and resume= by
// UUID (disk names change on Xen and Nitro), and a menu timeout that does not stall the boot.
// Each edit keeps comments, order and every unrelated setting, and is idempotent.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace vmfix::bootloader {

// The UUID of the filesystem a kernel device name ("/dev/sda3") holds; "" for anything else.
using DeviceUuid = std::function<std::string(const std::string& device)>;

// What an EC2 kernel command line carries besides the console: filesystems by UUID (disk names
// change on Xen and Nitro) and, for a kernel with NVMe, the longest I/O timeout (EBS volumes are
// NVMe on Nitro and their I/O may stall longer than the driver's default 30 s).
struct Ec2Args {
  DeviceUuid uuid_of;        // empty: device names are left as they are
  std::string nvme_timeout;  // "nvme_core.io_timeout=4294967295", or "" for a kernel without NVMe
  Ec2Args() = default;
  template <class F>
  requires std::is_invocable_r_v<std::string, F, const std::string&> Ec2Args(F uuid, std::string nvme = "")
      : uuid_of(std::move(uuid)), nvme_timeout(std::move(nvme)) {}
};

inline constexpr int kMaxTimeout = 5;  // seconds; longer (or -1, wait forever) is shortened
inline constexpr int kTimeout = 1;
inline constexpr std::string_view kSerialConsole = "console=ttyS0,115200";

// A kernel command line with a ttyS0 console (console=tty0 first, so both get the messages and
// /dev/console is the serial port), device names in root=/resume= replaced by UUID= and the NVMe
// timeout set.
std::string ec2_kernel_args(std::string_view args, const Ec2Args& ec2);
bool has_serial_console(std::string_view args);

// /etc/default/grub: GRUB_CMDLINE_LINUX gets the console and the NVMe timeout (unless
// GRUB_CMDLINE_LINUX_DEFAULT has them), root=/resume= by UUID in both, GRUB_DISABLE_LINUX_UUID=true
// becomes false (so a later update-grub in the guest writes root=UUID= too), GRUB_TIMEOUT
// shortened, a GRUB_DEFAULT naming no entry (`stale_default`) becomes 0. A drop-in
// (/etc/default/grub.d/*.cfg) gets the same edits of what it sets, and no setting it lacks.
struct DefaultGrubEdit {
  bool stale_default = false;
  bool drop_in = false;
};
std::string ec2_default_grub(std::string_view text, const Ec2Args& ec2, DefaultGrubEdit how = {});

// grub.cfg (GRUB 2), edited in place: linux/linux16/linuxefi lines of Linux kernels, and `set
// timeout` unless `timeouts` is false (a generated grub.cfg takes them from /etc/default/grub).
std::string ec2_grub_cfg(std::string_view text, const Ec2Args& ec2, bool timeouts = true);

// What the guest's own disks are, for a grub.cfg that grub-mkconfig wrote inside the appliance.
struct GuestDisks {
  std::string root_uuid;    // the filesystem mounted at /
  std::string resume_uuid;  // the swap to resume from, "" when there is not exactly one
  std::string efi_kernel;   // UEFI guests: "linux" or "linuxefi" for linux16 lines; "" for BIOS
};
// A menu the guest's grub-mkconfig wrote inside the appliance names the appliance's disks:
// root=/resume= device names become the guest's UUIDs, search hints go (the search by UUID finds
// the filesystem on any disk), `set root='hdN,...'` names the boot disk, hd0, and a UEFI guest's
// linux16/initrd16 (written because the appliance boots by BIOS) become UEFI commands again.
std::string repair_appliance_names(std::string_view text, const GuestDisks& disks);
// Device names and BIOS drive hints a menu still holds: `root=/dev/sdb2`, `--hint-bios=hd1,gpt2`,
// `set root='hd1,gpt2'` (hd0 is fine), each with its line number ("12: root=/dev/sdb2").
std::vector<std::string> device_names_in_menu(std::string_view text);
// grub.cfg's non-saved `set default=` lines set to `value` ("0", "1>2", an id).
std::string with_grub_cfg_default(std::string_view text, const std::string& value);
// True when grub.cfg takes its default from grubenv (set default="${saved_entry}").
bool grub_cfg_uses_saved_entry(std::string_view text);

// menu.lst / grub.conf (GRUB legacy): kernel lines and the "# kopt=" options Debian's update-grub
// writes them from, timeout=; default= set when `default_index` >= 0.
std::string ec2_grub_legacy(std::string_view text, const Ec2Args& ec2, int default_index = -1);

// A BLS entry (/boot/loader/entries/*.conf): its options line, unless it is "$kernelopts".
std::string ec2_bls_entry(std::string_view text, const Ec2Args& ec2);

// The Linux kernel lines' command lines in a grub.cfg (linux, linux16, linuxefi) or a menu.lst
// (kernel), memtest and other non-Linux payloads left out: what a check reads. Each syntax counts
// only what its GRUB boots, so a check never asks for an edit the editor of that file cannot make.
enum class MenuSyntax { grub2, legacy };
std::vector<std::string> linux_command_lines(std::string_view config, MenuSyntax syntax);
// The timeouts a grub.cfg (`set timeout=`, `timeout=`) or menu.lst (`timeout`) sets.
std::vector<int> menu_timeouts(std::string_view config, MenuSyntax syntax);
bool timeout_too_long(int seconds);

// The GRUB environment block (grubenv): KEY=VALUE lines padded with '#' to its size, 1024 bytes.
std::map<std::string, std::string> parse_grubenv(std::string_view block);
// `block` with `key` set; the block keeps its size. Throws vmfix::Error when the variables no
// longer fit.
std::string grubenv_with(std::string_view block, const std::string& key, const std::string& value);

}  // namespace vmfix::bootloader
