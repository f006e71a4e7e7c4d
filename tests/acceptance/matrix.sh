#!/usr/bin/env bash
# Acceptance (slow): a matrix of real Debian guests built from the Debian archive with debootstrap,
# each left as VMware would leave it (open-vm-tools, a static address bound to a MAC, VMware's NIC
# names, fstab by device name). For every guest: `vmfix --all` must end `ready` (exit 0); the
# output boots under qemu from an NVMe disk with a NIC the guest has never seen (SeaBIOS, or OVMF
# with no NVRAM boot entries, so only the fallback loader can boot), takes qemu's DHCP lease and
# answers on SSH through a loopback port forward; a second `vmfix --all` changes nothing.
#   tests/acceptance/matrix.sh [GUEST...]        (default: every guest; `list` prints them)
#   WORKDIR (default /var/tmp/vmfix-matrix) keeps the debootstrap trees and the images, cached by
#   a hash of their recipe; results.tsv there gets one line per guest.
#   VMFIX (default build/vmfix): the binary under test, so a copy can be tried while build/ changes.
#   MATRIX_NEGATIVE="GUEST..." also boots those guests' unremediated images, which must not come up.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=${WORKDIR:-/var/tmp/vmfix-matrix}
vmfix=${VMFIX:-$here/build/vmfix}
mkdir -p "$work/trees" "$work/images" "$work/runs" "$work/apt-cache"
. "$here/tests/acceptance/common.sh"
use_vmfix_acceleration
# Before vmfix has settled the acceleration on this machine, guestfish would try KVM, which
# hangs or aborts here; the boots below use software emulation too.
[ -n "${LIBGUESTFS_BACKEND_SETTINGS:-}" ] || [ "${MATRIX_KVM:-0}" = 1 ] || export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
for tool in debootstrap qemu-system-x86_64 setfiles mkfs.btrfs mkfs.vfat sfdisk ssh-keygen; do
  command -v "$tool" >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap qemu-system-x86 ovmf policycoreutils btrfs-progs dosfstools e2fsprogs fdisk openssh-client >/dev/null
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || apt-get install -y -qq --no-install-recommends ovmf >/dev/null

# name|suite|layout|network|extra packages|options|input format|boot NIC|expected verdict
# layout: mbr-ext4 mbr-btrfs lvm-xfs (separate /boot, swap LV) lvm-ext4 gpt-bios-swap uefi-gpt
# network: ifupdown eth0-udev networkmanager netplan networkd
# options: nouuid (GRUB_DISABLE_LINUX_UUID=true), dracut, selinux, cloud-init, resume,
#   grub-legacy (GRUB 0.97 and its update-grub's menu.lst, root by device name, instead of GRUB 2)
# Debian 13 is not on AWS's list of supported distributions: `--all` must say `blocked` for that
# alone (os-supported), and `--all --force` must still make an image that boots.
guests() {
  cat <<'EOF'
b12-mbr-ext4-nouuid|bookworm|mbr-ext4|ifupdown|isc-dhcp-client|nouuid|vmdk-stream|virtio|ready
b12-btrfs-nouuid|bookworm|mbr-btrfs|networkd|btrfs-progs|nouuid|vmdk-sparse|e1000|ready
b12-lvm-xfs-dracut|bookworm|lvm-xfs|networkmanager|network-manager lvm2 xfsprogs dracut|dracut|vmdk-sparse|virtio|ready
b12-gpt-bios-swap|bookworm|gpt-bios-swap|netplan|netplan.io|resume|vhd|e1000|ready
b12-uefi|bookworm|uefi-gpt|ifupdown|isc-dhcp-client|uefi|vmdk-sparse|virtio|ready
b12-selinux|bookworm|mbr-ext4|ifupdown|isc-dhcp-client selinux-policy-default|selinux|vmdk-sparse|virtio|ready
b12-eth0-cloudinit|bookworm|mbr-ext4|eth0-udev|ifupdown isc-dhcp-client cloud-init|cloud-init|vmdk-stream|e1000|ready
b11-lvm-ext4|bullseye|lvm-ext4|ifupdown|ifupdown isc-dhcp-client lvm2|nouuid|vmdk-sparse|virtio|ready
b11-uefi-nm|bullseye|uefi-gpt|networkmanager|network-manager|uefi|vmdk-sparse|e1000|ready
b12-gpt-bios-networkd|bookworm|gpt-bios-swap|networkd||resume|vmdk-sparse|virtio|ready
b12-grub-legacy|bookworm|mbr-ext4|ifupdown|isc-dhcp-client|grub-legacy|vmdk-sparse|virtio|ready
b13-networkd|trixie|mbr-ext4|networkd||nouuid|vmdk-sparse|virtio|blocked:os-supported
b13-uefi-gpt|trixie|uefi-gpt|networkd||uefi|raw|e1000|blocked:os-supported
EOF
}

log() { printf '%s matrix: %s\n' "$(date +%T)" "$*" >&2; }

tree_of() {  # SUITE: the debootstrap tree every guest of that suite starts from
  local suite=$1 dir=$work/trees/$1
  if [ ! -x "$dir/bin/bash" ]; then
    log "debootstrap $suite (minutes, once)"
    rm -rf "$dir.tmp"
    debootstrap --variant=minbase \
      --include=linux-image-amd64,systemd-sysv,udev,kmod,openssh-server,open-vm-tools,iproute2,initramfs-tools,grub2-common,procps \
      "$suite" "$dir.tmp" http://deb.debian.org/debian >"$work/trees/$suite.log" 2>&1
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

in_chroot() {  # ROOT COMMAND...: with /proc, /sys, /dev and the shared apt cache mounted
  local root=$1; shift
  mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"; mount --bind /dev "$root/dev"
  mount --bind "$work/apt-cache" "$root/var/cache/apt/archives"
  local status=0
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@" || status=$?
  umount "$root/var/cache/apt/archives" "$root/dev" "$root/sys" "$root/proc"
  return $status
}

mac=00:50:56:8a:3c:21   # VMware's OUI, as a VMware NIC has it

network_files() {  # ROOT NETWORK: a static address bound to the VMware NIC
  local root=$1 network=$2
  mkdir -p "$root/etc/network"
  printf 'source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n' > "$root/etc/network/interfaces"
  case $network in
    ifupdown)
      printf '\nallow-hotplug ens192\niface ens192 inet static\n    address 10.9.8.7/24\n    gateway 10.9.8.1\n    hwaddress ether %s\n' "$mac" >> "$root/etc/network/interfaces" ;;
    eth0-udev)
      printf '# This file was automatically generated by the udev persistent-net generator\nSUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="%s", ATTR{type}=="1", KERNEL=="eth*", NAME="eth0"\n' "$mac" \
        > "$root/etc/udev/rules.d/70-persistent-net.rules"
      printf '\nallow-hotplug eth0\niface eth0 inet static\n    address 10.9.8.7/24\n    gateway 10.9.8.1\n' >> "$root/etc/network/interfaces" ;;
    networkmanager)
      mkdir -p "$root/etc/NetworkManager/system-connections"
      printf '[connection]\nid=Wired connection 1\nuuid=5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03\ntype=ethernet\ninterface-name=ens192\n\n[ethernet]\nmac-address=%s\n\n[ipv4]\naddress1=10.9.8.7/24,10.9.8.1\ndns=10.9.8.1;\nmethod=manual\n\n[ipv6]\nmethod=ignore\n' "$mac" \
        > "$root/etc/NetworkManager/system-connections/Wired connection 1.nmconnection"
      chmod 600 "$root/etc/NetworkManager/system-connections/"*.nmconnection ;;
    netplan)  # lists as deep as their key, as Ubuntu's installer and cloud-init (PyYAML) write them
      mkdir -p "$root/etc/netplan"
      printf 'network:\n  version: 2\n  renderer: networkd\n  ethernets:\n    lan:\n      match:\n        macaddress: "%s"\n      set-name: ens192\n      addresses:\n      - 10.9.8.7/24\n      routes:\n      - to: default\n        via: 10.9.8.1\n' "$mac" \
        > "$root/etc/netplan/01-vmware.yaml"
      chmod 600 "$root/etc/netplan/01-vmware.yaml" ;;
    networkd)
      mkdir -p "$root/etc/systemd/network"
      printf '[Match]\nMACAddress=%s\n\n[Network]\nAddress=10.9.8.7/24\nGateway=10.9.8.1\n' "$mac" > "$root/etc/systemd/network/10-ens192.network" ;;
  esac
  case $network in
    networkd|netplan) ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service" ;;
  esac
}

# The guest's tree: the suite's, its packages installed in a chroot, its files as VMware left them.
make_tree() {  # NAME SUITE LAYOUT NETWORK PACKAGES OPTIONS -> prints the tree
  local name=$1 suite=$2 layout=$3 network=$4 packages=$5 options=$6
  local root=$work/build/$name/root base
  base=$(tree_of "$suite")
  rm -rf "$work/build/$name"; mkdir -p "$work/build/$name"
  cp -a "$base" "$root"
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  local boot_packages="grub-pc"
  [ "$layout" = uefi-gpt ] && boot_packages="grub-efi-amd64 shim-signed dosfstools"
  [[ " $options " == *" grub-legacy "* ]] && boot_packages="grub-legacy"  # replaces grub2-common
  [ "$network" = networkd ] && in_chroot "$root" apt-cache show systemd-networkd >/dev/null 2>&1 && packages="$packages systemd-networkd"
  case $layout in lvm-*) packages="$packages lvm2" ;; mbr-btrfs) packages="$packages btrfs-progs" ;; esac
  # minbase leaves out ifupdown (priority important): without it nothing reads /etc/network/interfaces.
  case $network in ifupdown | eth0-udev) packages="$packages ifupdown" ;; esac
  [[ " $options " == *" dracut "* ]] && { mkdir -p "$root/etc/dracut.conf.d"; echo 'hostonly="no"' > "$root/etc/dracut.conf.d/10-generic.conf"; }
  in_chroot "$root" apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  in_chroot "$root" apt-get install -y -qq --no-install-recommends $boot_packages $packages >"$work/build/$name/apt.log" 2>&1 ||
    { tail -20 "$work/build/$name/apt.log" >&2; return 1; }
  rm -f "$root/usr/sbin/policy-rc.d"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
  echo "$name" > "$root/etc/hostname"
  [ "$layout" = uefi-gpt ] && mkdir -p "$root/boot/efi"
  network_files "$root" "$network"
  local cmdline="" cmdline_default="quiet"
  [ "$network" = eth0-udev ] && cmdline="net.ifnames=0 biosdevname=0"
  [[ " $options " == *" resume "* ]] && cmdline_default="quiet resume=/dev/sda3"
  [ -f "$root/etc/default/grub" ] && sed -i "s|^GRUB_CMDLINE_LINUX_DEFAULT=.*|GRUB_CMDLINE_LINUX_DEFAULT=\"$cmdline_default\"|; s|^GRUB_CMDLINE_LINUX=.*|GRUB_CMDLINE_LINUX=\"$cmdline\"|" "$root/etc/default/grub"
  [[ " $options " == *" nouuid "* ]] && printf '\n# Golden template: name the root by device\nGRUB_DISABLE_LINUX_UUID=true\n' >> "$root/etc/default/grub"
  [[ " $options " == *" resume "* ]] && { mkdir -p "$root/etc/initramfs-tools/conf.d"; echo "RESUME=/dev/sda3" > "$root/etc/initramfs-tools/conf.d/resume"; }
  if [[ " $options " == *" selinux "* ]]; then
    sed -i 's|^SELINUX=.*|SELINUX=enforcing|' "$root/etc/selinux/config"
    sed -i "s|^GRUB_CMDLINE_LINUX=.*|GRUB_CMDLINE_LINUX=\"security=selinux enforcing=1\"|" "$root/etc/default/grub"
  fi
  echo "$root"
}

# fstab by device name, as an installer that was told so (or an old template) writes it.
fstab_of() {  # LAYOUT
  case $1 in
    mbr-ext4) printf '/dev/sda1 / ext4 errors=remount-ro 0 1\n/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0\n' ;;
    mbr-btrfs) printf '/dev/sda1 / btrfs defaults 0 0\n' ;;
    lvm-xfs) printf '/dev/mapper/vg0-root / xfs defaults 0 0\n/dev/sda1 /boot ext4 defaults 0 2\n/dev/mapper/vg0-swap none swap sw 0 0\n' ;;
    lvm-ext4) printf '/dev/mapper/vg0-root / ext4 errors=remount-ro 0 1\n' ;;
    gpt-bios-swap) printf '/dev/sda2 / ext4 errors=remount-ro 0 1\n/dev/sda3 none swap sw 0 0\n' ;;
    uefi-gpt) printf '/dev/sda2 / ext4 errors=remount-ro 0 1\n/dev/sda1 /boot/efi vfat umask=0077 0 1\n' ;;
  esac
}

# The partitions of RAW ("START SIZE" per line, in sectors).
partitions_of() { sfdisk --json "$1" | python3 -c 'import json,sys; [print(p["start"], p["size"]) for p in json.load(sys.stdin)["partitiontable"]["partitions"]]'; }

loop_of() {  # RAW N: a loop device over partition N
  local start size
  read -r start size < <(partitions_of "$1" | sed -n "${2}p")
  losetup -f --show -o $((start * 512)) --sizelimit $((size * 512)) "$1"
}

# The disk: partitioned with sfdisk and the filesystems made and filled on the host (mkfs -d,
# mkfs.btrfs --rootdir) where the layout allows; LVM only inside the libguestfs appliance
# (device-mapper works only there). Then GRUB installed by the guest's own grub-install and its
# menu made by its own update-grub in the appliance, both with a device map that makes the guest's
# disk hd0, as its installer would. Guest programs reach the disk by its label's link: the
# appliance's kernel names its disks as their probes finish, so on a loaded host its /dev/sda has
# been the appliance's own disk ("embedding is not possible, but this is required for cross-disk
# install").
make_disk() {  # NAME LAYOUT ROOT RAW
  local name=$1 layout=$2 root=$3 raw=$4 mounts script="" loop
  fstab_of "$layout" > "$root/etc/fstab"
  local install="grub-install --target=i386-pc /dev/disk/guestfs/guest"
  [ "$layout" = uefi-gpt ] && install="grub-install --target=x86_64-efi --efi-directory=/boot/efi --bootloader-id=debian --no-nvram"
  local menu="/usr/bin/env GRUB_DISABLE_OS_PROBER=true update-grub"
  if [ -x "$root/usr/sbin/grub" ]; then
    # GRUB legacy: its installer looks the disk up in the device map by the kernel's name; its
    # update-grub writes menu.lst, whose "# kopt=" then names the root as the VMware guest had it.
    cat > "$root/root/grub-legacy.sh" <<'LEGACY'
set -e
disk=$(readlink -f /dev/disk/guestfs/guest)
echo "(hd0) $disk" > /boot/grub/device.map
grub-install --no-floppy "$disk"
update-grub -y
sed -i -e 's|^# kopt=.*|# kopt=root=/dev/sda1 ro|' -e 's|^# groot=.*|# groot=(hd0,0)|' /boot/grub/menu.lst
update-grub -y
LEGACY
    install="/bin/sh /root/grub-legacy.sh"; menu="rm /root/grub-legacy.sh"
  fi
  rm -f "$raw"; truncate -s 4G "$raw"
  case $layout in
    mbr-ext4|mbr-btrfs)
      printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw"
      loop=$(loop_of "$raw" 1)
      if [ "$layout" = mbr-ext4 ]; then mkfs.ext4 -q -F -d "$root" "$loop"; else mkfs.btrfs -q -f --rootdir "$root" "$loop" >/dev/null; fi
      losetup -d "$loop"
      mounts="mount /dev/sda1 /" ;;
    gpt-bios-swap)
      printf 'label: gpt\nstart=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649\nstart=4096, size=7860224, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\nstart=7864320, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F\n' | sfdisk -q "$raw"
      loop=$(loop_of "$raw" 2); mkfs.ext4 -q -F -d "$root" "$loop"; losetup -d "$loop"
      loop=$(loop_of "$raw" 3); mkswap -q "$loop"; losetup -d "$loop"
      mounts="mount /dev/sda2 /" ;;
    uefi-gpt)
      printf 'label: gpt\nstart=2048, size=262144, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=264192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' | sfdisk -q "$raw"
      loop=$(loop_of "$raw" 1); mkfs.vfat -F 32 "$loop" >/dev/null; losetup -d "$loop"
      loop=$(loop_of "$raw" 2); mkfs.ext4 -q -F -d "$root" "$loop"; losetup -d "$loop"
      mounts="mount /dev/sda2 /
mount /dev/sda1 /boot/efi" ;;
    lvm-xfs)
      script="part-init /dev/sda mbr
part-add /dev/sda p 2048 1050623
part-add /dev/sda p 1050624 -1
part-set-bootable /dev/sda 1 true
part-set-mbr-id /dev/sda 2 0x8e
pvcreate /dev/sda2
vgcreate vg0 /dev/sda2
lvcreate swap vg0 256
lvcreate-free root vg0 100
mkfs ext4 /dev/sda1
mkfs xfs /dev/vg0/root
mkswap /dev/vg0/swap
mount /dev/vg0/root /
mkdir /boot
mount /dev/sda1 /boot
tar-in $work/build/$name/root.tar /" ;;
    lvm-ext4)
      script="part-init /dev/sda mbr
part-add /dev/sda p 2048 -1
part-set-bootable /dev/sda 1 true
part-set-mbr-id /dev/sda 1 0x8e
pvcreate /dev/sda1
vgcreate vg0 /dev/sda1
lvcreate-free root vg0 100
mkfs ext4 /dev/vg0/root
mount /dev/vg0/root /
tar-in $work/build/$name/root.tar /" ;;
  esac
  [ -n "$script" ] && tar -C "$root" -cf "$work/build/$name/root.tar" .
  guestfish >"$work/build/$name/guestfish.log" 2>&1 <<GUESTFISH
add-drive "$raw" format:raw label:guest
run
${script:-$mounts}
mkdir-p /boot/grub
write /boot/grub/device.map "(hd0) /dev/disk/guestfs/guest\n"
command "$install"
command "$menu"
rm /boot/grub/device.map
GUESTFISH
  rm -f "$work/build/$name/root.tar"
}

# SELinux: the whole tree labelled from the guest's own file_contexts, as its installer leaves it.
label_selinux() {  # RAW
  local raw=$1 mnt=$work/build/mnt loop
  mkdir -p "$mnt"
  loop=$(loop_of "$raw" 1)
  mount "$loop" "$mnt"
  setfiles -r "$mnt" "$mnt/etc/selinux/default/contexts/files/file_contexts" "$mnt" 2>&1 | tail -3 || true
  umount "$mnt"; losetup -d "$loop"
}

# The files of a raw image whose label is not the one its policy gives them (setfiles -n: looks,
# changes nothing), one line each; vmfix's changes must leave none.
selinux_mislabelled() {  # RAW
  local raw=$1 mnt loop
  mnt=$(mktemp -d /var/tmp/vmfix-selinux-check.XXXXXX)
  loop=$(loop_of "$raw" 1) || { echo "no loop device for $raw"; return; }
  if mount -o ro,noload "$loop" "$mnt"; then
    setfiles -n -v -r "$mnt" "$mnt/etc/selinux/default/contexts/files/file_contexts" "$mnt" 2>&1 | grep -v -E '^$' | head -20 | tr '\n' ';'
    umount "$mnt"
  else
    echo "cannot mount $raw's first partition ($loop)"
  fi
  losetup -d "$loop"; rmdir "$mnt"
}

build_image() {  # LINE -> prints the image path (cached by the hash of its recipe)
  local name suite layout network packages options format nic expect
  IFS='|' read -r name suite layout network packages options format nic expect <<<"$1"
  local recipe hash ext
  recipe=$(printf '%s\n' "${1%|*}"; declare -f make_tree network_files fstab_of make_disk label_selinux)
  hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-12)
  case $format in vmdk-*) ext=vmdk ;; *) ext=$format ;; esac
  local image=$work/images/$name-$hash.$ext
  if [ ! -f "$image" ]; then
    log "$name: building ($suite, $layout, $network, $options)"
    local root raw=$work/build/$name/disk.raw
    root=$(make_tree "$name" "$suite" "$layout" "$network" "$packages" "$options") || { log "$name: the tree failed"; return 1; }
    make_disk "$name" "$layout" "$root" "$raw" && ! grep -q -i -E '^libguestfs: error|^error' "$work/build/$name/guestfish.log" || { log "$name: the disk failed: $(tail -5 "$work/build/$name/guestfish.log")"; return 1; }
    if [[ " $options " == *" selinux "* ]]; then label_selinux "$raw"; fi
    local menu=/boot/grub/grub.cfg
    [[ " $options " == *" grub-legacy "* ]] && menu=/boot/grub/menu.lst
    [ "$(guestfish --ro -a "$raw" -i is-file "$menu" 2>&1)" = true ] || { log "$name: update-grub wrote no menu"; return 1; }
    case $format in
      vmdk-stream) qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized "$raw" "$image.part" ;;
      vmdk-sparse) qemu-img convert -q -f raw -O vmdk -o subformat=monolithicSparse "$raw" "$image.part" ;;
      vhd) qemu-img convert -q -f raw -O vpc -o subformat=dynamic "$raw" "$image.part" ;;
      raw) cp --sparse=always "$raw" "$image.part" ;;
    esac
    mv "$image.part" "$image"
    rm -rf "$work/build/$name"
  fi
  echo "$image"
}

# Boots IMAGE (through a throwaway overlay) from NVMe with NIC model NIC under FIRMWARE and waits
# for sshd's banner through a loopback port forward: it answers only once the guest took qemu's
# DHCP lease (10.0.2.15), since user-mode networking forwards to that address.
boot_ssh() {  # IMAGE FIRMWARE NIC LOG LIMIT -> 0 when SSH answered; prints the seconds
  local image=$1 firmware=$2 nic=$3 log=$4 limit=$5 dir
  dir=$(mktemp -d /var/tmp/vmfix-boot.XXXXXX)
  local format
  format=$(qemu-img info --output=json "$image" | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')
  qemu-img create -q -f qcow2 -b "$image" -F "$format" "$dir/disk.qcow2"
  local probe=${6:-} probe_out=${7:-/dev/null}
  if [ -n "$probe" ]; then
    # A key for root in the throwaway overlay, labelled as the policy labels ~/.ssh, so that the
    # probe can log in and ask the running guest itself.
    ssh-keygen -q -t ed25519 -N '' -f "$dir/key"
    guestfish -a "$dir/disk.qcow2" -i >/dev/null <<GUESTFISH
mkdir-p /root/.ssh
upload $dir/key.pub /root/.ssh/authorized_keys
chmod 0700 /root/.ssh
chmod 0600 /root/.ssh/authorized_keys
setxattr security.selinux "system_u:object_r:ssh_home_t:s0" 31 /root/.ssh
setxattr security.selinux "system_u:object_r:ssh_home_t:s0" 31 /root/.ssh/authorized_keys
GUESTFISH
  fi
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local fw=()
  if [ "$firmware" = uefi ]; then
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$dir/vars.fd"   # empty NVRAM: no boot entries
    fw=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive "if=pflash,format=raw,file=$dir/vars.fd")
  fi
  local model=virtio-net-pci; [ "$nic" = e1000 ] && model=e1000
  local start=$SECONDS
  qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m 1536 -smp 1 -display none -monitor none "${fw[@]}" \
    -serial "file:$log" -drive "file=$dir/disk.qcow2,format=qcow2,if=none,id=disk0" -device nvme,drive=disk0,serial=vmfix0 \
    -nic "user,model=$model,hostfwd=tcp:127.0.0.1:$port-:22" &
  local qemu=$! ok=1
  while (( SECONDS - start < limit )) && kill -0 $qemu 2>/dev/null; do
    if python3 - "$port" <<'PY' 2>/dev/null; then ok=0; break; fi
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.settimeout(5)
sys.exit(0 if s.recv(64).startswith(b"SSH-") else 1)
PY
    sleep 5
  done
  echo $(( SECONDS - start ))
  if [ $ok = 0 ] && [ -n "$probe" ]; then
    timeout 120 ssh -n -q -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=60 -i "$dir/key" -p "$port" \
      root@127.0.0.1 "$probe" > "$probe_out" 2>&1 || true
  fi
  kill $qemu 2>/dev/null; wait $qemu 2>/dev/null || true
  rm -rf "$dir"
  return $ok
}

check_report() {  # JSON EXPECT -> "" or what is wrong
  python3 - "$1" "$2" <<'PY'
import json, sys
r, expect = json.load(open(sys.argv[1])), sys.argv[2]
verdict, _, blocker = expect.partition(":")
bad = []
if r.get("verdict") != verdict: bad.append("verdict " + str(r.get("verdict")))
if not (r.get("output") or {}).get("written"): bad.append("no output written")
for f in r.get("findings", []):  # warnings are reported and do not stop the output
    if f["status"] == "fail" and f["severity"] == "blocker" and f["id"] != blocker:
        bad.append(f"{f['id']}: {'; '.join(f['evidence'])[:300]}")
print("; ".join(bad))
PY
}

run_guest() {  # LINE
  local name suite layout network packages options format nic expect
  IFS='|' read -r name suite layout network packages options format nic expect <<<"$1"
  local image firmware=bios
  [ "$layout" = uefi-gpt ] && firmware=uefi
  local build_start=$SECONDS
  image=$(build_image "$1")
  local build_seconds=$(( SECONDS - build_start ))
  local run=$work/runs/$name; rm -rf "$run"; mkdir -p "$run"
  local result=OK why=""
  if [[ " ${MATRIX_NEGATIVE:-} " == *" $name "* ]]; then
    local negative
    if negative=$(boot_ssh "$image" "$firmware" "$nic" "$run/unremediated-serial.log" 300); then
      result=FAIL; why="the unremediated image answered SSH after ${negative}s: the harness cannot tell"
    else
      log "$name: unremediated image did not come up in ${negative}s (as expected): $(tr -d '\r' < "$run/unremediated-serial.log" | grep -a -m1 -E 'Gave up|ALERT|not exist|No bootable|error' || echo 'no console output')"
      echo "$name	unremediated	${negative}s	no SSH" >> "$work/negative.tsv"
    fi
  fi
  local out=$run/$name-vmfix.raw start=$SECONDS code=0 force=() want=0
  [ "$format" = vmdk-stream ] && out=$run/$name-vmfix.vmdk
  if [ "$expect" != ready ]; then
    # Blocked for one reason AWS decides (not vmfix): the plain run must say so and write nothing.
    "$vmfix" --all --json -o "$out" "$image" > "$run/blocked.json" 2> "$run/blocked.log" || code=$?
    local said; said=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["verdict"], sorted(f["id"] for f in r["findings"] if f["status"] == "fail" and f["severity"] == "blocker"), r["output"]["written"])' "$run/blocked.json" 2>&1 || true)
    if [ $code -ne 2 ] || [ "$said" != "blocked ['${expect#*:}'] False" ] || [ -e "$out" ]; then result=FAIL; why="--all without --force: exit $code, $said"; fi
    force=(--force); want=2; code=0
    start=$SECONDS
  fi
  "$vmfix" --all -v "${force[@]}" --json -o "$out" $([ "${out##*.}" = raw ] && echo --output-format raw) "$image" > "$run/all.json" 2> "$run/all.log" || code=$?
  local all_seconds=$(( SECONDS - start ))
  local problems; problems=$(check_report "$run/all.json" "$expect" 2>&1 || true)
  if [ "$result" = OK ] && { [ $code -ne $want ] || [ -n "$problems" ]; }; then result=FAIL; why="vmfix --all exit $code: $problems $(tail -c 300 "$run/all.log")"; fi
  if [ "$result" = OK ] && [[ " $options " == *" selinux "* ]]; then
    local mislabelled
    mislabelled=$(selinux_mislabelled "$out")
    if [ -n "$mislabelled" ]; then result=FAIL; why="files without the policy's label: $mislabelled"; fi
  fi
  local boot_seconds=- probe=""
  # SELinux: the running guest says it enforces, and shows the labels of what vmfix changed.
  # GRUB legacy: the guest's own update-grub, as its next kernel update runs it, writes kernel lines
  # from menu.lst's "# kopt=": they still name the root by UUID and have the serial console.
  [[ " $options " == *" grub-legacy "* ]] && probe="update-grub -y >/dev/null 2>&1; echo update-grub=\$?; grep '^kernel' /boot/grub/menu.lst"
  [[ " $options " == *" selinux "* ]] && probe="echo enforce=\$(cat /sys/fs/selinux/enforce); ls -Z $(python3 -c 'import json,sys; print(" ".join(sorted({c["target"] for c in json.load(open(sys.argv[1]))["changes"] if c["target"].startswith("/")})))' "$run/all.json")"
  if [ "$result" = OK ]; then
    if boot_seconds=$(boot_ssh "$out" "$firmware" "$nic" "$run/serial.log" 600 "$probe" "$run/probe.txt"); then
      log "$name: SSH answered after ${boot_seconds}s"
    else
      result=FAIL; why="no SSH after ${boot_seconds}s; serial: $(tr -d '\r' < "$run/serial.log" | tail -5 | tr '\n' ' ')"
    fi
  fi
  if [ "$result" = OK ] && [[ " $options " == *" grub-legacy "* ]]; then
    cat "$run/probe.txt" >&2
    if ! grep -q '^update-grub=0$' "$run/probe.txt" || ! grep -q '^kernel' "$run/probe.txt" ||
      grep '^kernel' "$run/probe.txt" | grep -v 'root=UUID=.*console=ttyS0' >/dev/null; then
      result=FAIL; why="the guest's own update-grub wrote a menu EC2 would not boot: $(head -c 300 "$run/probe.txt" | tr '\n' ' ')"
    fi
  fi
  if [ "$result" = OK ] && [[ " $options " == *" selinux "* ]]; then
    cat "$run/probe.txt" >&2
    grep -q "^enforce=1$" "$run/probe.txt" || { result=FAIL; why="the booted guest does not enforce SELinux: $(head -c 300 "$run/probe.txt")"; }
    if grep -E "unlabeled|\?" "$run/probe.txt" | grep -v "^enforce" >&2; then result=FAIL; why="files vmfix changed are unlabelled in the running guest"; fi
  fi
  if [ "$result" = OK ]; then
    local again=$run/again.raw code2=0
    "$vmfix" --all "${force[@]}" --json -o "$again" "$out" > "$run/again.json" 2> "$run/again.log" || code2=$?
    rm -f "$again"
    local changed
    changed=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(", ".join(c["target"] for c in r.get("changes", [])) + ("" if r.get("verdict_before") == sys.argv[2] else " verdict before " + str(r.get("verdict_before"))))' "$run/again.json" "${expect%%:*}" 2>&1 || true)
    if [ $code2 -ne $want ] || [ -n "$changed" ]; then result=FAIL; why="second --all exit $code2, changed: $changed"; fi
  fi
  rm -f "$out"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$suite" "$layout, $network, $options" "$expect" "$build_seconds" "$all_seconds" "$boot_seconds" "$result" "$why" | tee -a "$work/results.tsv"
  [ "$result" = OK ]
}

if [ "${1:-}" = list ]; then guests | cut -d'|' -f1-4 | tr '|' '\t'; exit 0; fi
if [ "${1:-}" = build ]; then  # build NAME...: the images only
  shift
  while IFS= read -r line; do [[ " $* " == *" ${line%%|*} "* ]] && build_image "$line"; done < <(guests)
  exit 0
fi
failed=0
while IFS= read -r line; do
  name=${line%%|*}
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  run_guest "$line" || failed=$((failed + 1))
done < <(guests)
echo "matrix: $failed failed; results in $work/results.tsv"
[ $failed -eq 0 ]
