#pragma once
// Everything vmfix learns about a guest before it checks or fixes anything.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bootloader/detect.h"
#include "bootloader/kernels.h"
#include "guest/guest.h"

namespace vmfix::inspect {

struct PartitionFacts {
  int number = 0;
  std::string device;  // "/dev/sda1"
  uint64_t start = 0;  // bytes
  uint64_t end = 0;    // bytes, inclusive
  uint64_t size = 0;
  std::string type;  // MBR id ("0x83") or GPT type GUID
  std::string role;  // "esp", "bios-boot", "linux", "swap", "lvm", "raid", "ntfs", "msr", "recovery", "extended", ""
  std::string name;  // GPT partition name
  bool bootable = false;  // MBR active flag
  std::string partuuid;   // PARTUUID, as blkid gives it: the GPT partition GUID, or MBR "<disk signature>-<number>"
};

struct DiskFacts {
  std::string device;  // appliance device, "/dev/sda"
  std::string source;  // the image file
  uint64_t size = 0;
  std::string partition_table;  // "mbr", "gpt" or "none"
  std::vector<PartitionFacts> partitions;
  std::vector<std::string> table_problems;  // damage: bad CRCs, overlaps, entries past the end
};

struct FilesystemFacts {
  std::string device;
  std::string type;  // "ext4", "xfs", "ntfs", "vfat", "swap", ...
  std::string label;
  std::string uuid;
  std::string mountpoint;  // in the guest, "" when not mounted
  std::optional<uint64_t> size;
  std::optional<uint64_t> free;  // only for mounted filesystems
  std::optional<bool> clean;     // ext2/3/4 state from the superblock; nullopt for others
};

struct NetworkConfig {
  std::string stack;      // "ifcfg", "ifupdown", "netplan", "networkmanager", "systemd-networkd", "windows-tcpip"
  std::string file;       // config file, or the registry key for Windows
  std::string interface;  // name, or the Windows interface GUID
  std::string method;     // "dhcp", "static", "manual", "unknown"
  std::vector<std::string> addresses;
  std::string mac_binding;  // the MAC address the config is pinned to, if any
};

struct HypervisorTool {
  std::string name;      // "vmware-tools", "open-vm-tools", "virtualbox-guest-additions"
  std::string form;      // "package", "tarball", "windows-service", "windows-program"
  std::string evidence;  // package name, file or registry key that shows it
};

struct WindowsService {
  std::string name;
  uint32_t start = 0;  // 0 boot, 1 system, 2 automatic, 3 manual, 4 disabled
  std::string image_path;
};

// A Windows firewall profile (Domain, Private, Public) of the current control set, with Group
// Policy's settings over it.
struct FirewallProfile {
  std::string name;
  bool enabled = true;             // EnableFirewall (on unless set to 0)
  bool blocks_every_rule = false;  // DoNotAllowExceptions 1: inbound rules, RDP's included, are ignored
  std::string evidence;
};

// What the SYSTEM and SOFTWARE hives say beyond network and tools.
struct WindowsFacts {
  std::string edition_id;         // "ServerStandard", "Professional"
  std::string installation_type;  // "Server", "Server Core", "Nano Server", "Client"
  std::string current_build;
  std::string install_language;               // LANGID in hex, "0409" is US English
  std::vector<std::string> dotnet;            // "v3.5 SP1", "v4 Full release 378675"
  std::vector<std::string> pending_reboot;    // the keys and values that say so
  std::string automatic_install;              // the AUOptions setting that installs updates unasked, "" if none
  bool fast_startup = false;                  // HiberbootEnabled=1
  std::optional<uint64_t> hiberfil_size;      // hiberfil.sys at the system drive root
  std::string hiberfil_signature;             // its first 4 bytes: "hibr"/"HIBR" while hibernated
  std::vector<WindowsService> services;       // of the current control set
  std::vector<std::string> vmware_tools_msi;  // the MSI product codes VMware Tools is installed under
  uint32_t setup_type = 0;                    // SYSTEM\Setup\SetupType: Winlogon runs CmdLine when not 0
  std::string setup_command;                  // SYSTEM\Setup\CmdLine
  std::optional<uint32_t> rdp_port;           // the RDP-Tcp listener's PortNumber
  std::vector<FirewallProfile> firewall_profiles;
  std::vector<std::string> hyper_v;                    // what says the Hyper-V role is installed (empty: it is not)
  std::vector<std::string> ec2_agents;                 // EC2Config, EC2Launch, SSM Agent services present
  bool system_hive_dirty = false;                      // sequence numbers differ and logs sit beside it
  std::string system_hive_state;                       // registry::GuestHive's description of it
  bool accounts_read = false;                          // the SAM hive was read
  std::string accounts_evidence;                       // the SAM's path, or why it could not be read
  std::vector<std::string> enabled_accounts;           // local accounts that can log on
  std::vector<std::string> accounts_without_password;  // enabled, and no password stored
};

// Remote access and boot on Linux.
struct LinuxFacts {
  std::vector<bootloader::Kernel> kernels;     // newest first
  std::optional<bootloader::BootConfig> boot;  // the OS's GRUB menu
  std::vector<std::string> grub_configs;       // distinct GRUB menu files found
  std::string ssh_server;                      // "/usr/sbin/sshd" when installed
  std::string ssh_enabled;                     // the unit or rc link that starts it, "" if none
  std::vector<std::string> key_users;          // non-root users with a non-empty authorized_keys
  bool root_has_keys = false;
  std::string firewall;                     // "firewalld", "ufw", "iptables" or "" (none active)
  std::optional<bool> firewall_allows_ssh;  // nullopt: no firewall, or its rules not understood
  std::string firewall_evidence;
};

// A Windows boot menu: one BCD store (a registry hive), read on the host.
struct BootMenu {
  std::string store;                          // the BCD file
  std::string location;                       // "" for the OS tree, else the device holding it
  std::vector<std::string> entries;           // {bootmgr} displayorder: the menu's entries
  std::optional<uint64_t> timeout;            // seconds the menu waits
  std::string default_entry;                  // {bootmgr} default
  std::optional<uint64_t> hypervisor_launch;  // the default entry's hypervisorlaunchtype: 0 off, 1 auto
  std::string error;                          // why the store could not be read, "" when it was
};

struct Facts {
  std::string os_type;  // "linux", "windows", ...
  std::string distro;   // libguestfs's names: "centos", "ubuntu", "debian", "windows", ...
  std::string product_name;
  std::string product_variant;
  int major_version = 0;
  int minor_version = 0;
  std::string arch;
  std::string hostname;
  std::string root_device;
  std::string package_format;
  std::string package_management;
  std::string windows_systemroot;           // "/Windows"
  std::string windows_current_control_set;  // "ControlSet001"

  std::vector<guest::Mountpoint> mountpoints;
  std::vector<FilesystemFacts> filesystems;
  std::vector<DiskFacts> disks;
  bootloader::BootMode boot_mode = bootloader::BootMode::unknown;
  std::string boot_mode_evidence;  // why
  std::vector<bootloader::Bootloader> bootloaders;
  std::vector<BootMenu> boot_menus;  // Windows: the BCD stores of its boot managers
  std::vector<NetworkConfig> network;
  std::vector<HypervisorTool> hypervisor_tools;
  std::vector<std::string> packages;  // installed package names (Linux)
  bool packages_known = false;        // false when the package database could not be read
  int os_count = 1;                   // operating systems found on the disks
  bool found_by_libguestfs = false;   // libguestfs's inspect_os named the OS, not vmfix's own search
  WindowsFacts windows;
  LinuxFacts linux;
  std::vector<std::string> notes;  // what inspection could not read, and why
};

}  // namespace vmfix::inspect
