#!/usr/bin/env bash
# Seeds for the fuzz targets of guest data (scripts/fuzz.sh calls this once): real files from the
# third-party corpus where it is there, each behind the selector byte its target reads first, and
# small real artefacts made here with the tools that make them in guests (sfdisk, cpio and every
# compressor the kernel unpacks, a GRUB environment block, a SAM account record, small bzImages).
#   scripts/fuzz-seeds.sh SEEDS_DIR [CORPUS_DIR]
set -euo pipefail
seeds=$1
corpus=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
max=$((256 * 1024))
n=0

# seed TARGET SELECTOR FILE: the file behind the selector byte (an octal escape, or "" for none).
seed() {
  local target=$1 selector=$2 file=$3
  [ -f "$file" ] && [ "$(stat -c %s "$file")" -le "$max" ] || return 0
  mkdir -p "$seeds/$target"
  n=$((n + 1))
  { [ -z "$selector" ] || printf "\\$selector"; cat "$file"; } >"$seeds/$target/seed-$n"
}
# seeds TARGET SELECTOR DIR [find tests...]: every file under DIR.
seeds() {
  local target=$1 selector=$2 dir=$3
  shift 3
  [ -d "$dir" ] || return 0
  while IFS= read -r -d '' file; do seed "$target" "$selector" "$file"; done < <(find "$dir" -type f "$@" -print0)
}

# Partition tables: MBR with an extended chain, GPT (the target itself tries 4096-byte sectors).
truncate -s 200K "$work/mbr.img"
printf 'label: dos\nstart=8, size=40, type=83, bootable\nstart=64, size=300, type=5\nstart=72, size=40, type=83\nstart=128, size=40, type=82\n' |
  sfdisk -q "$work/mbr.img" >/dev/null
truncate -s 240K "$work/gpt.img"
printf 'label: gpt\nfirst-lba: 34\nstart=40, size=64, type=21686148-6449-6E6F-744E-656564454649\nstart=104, size=128, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=232, size=200, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' |
  sfdisk -q "$work/gpt.img" >/dev/null
for image in mbr gpt; do seed partition_table "" "$work/$image.img"; done
if [ -n "$corpus" ] && [ -d "$corpus/partitions" ]; then
  while IFS= read -r -d '' file; do
    case "$file" in
      *.xz) xz -dc "$file" >"$work/unpacked" ;;
      *.gz) gzip -dc "$file" >"$work/unpacked" ;;
      *.img) cp "$file" "$work/unpacked" ;;
      *) continue ;;
    esac
    seed partition_table "" "$work/unpacked"
  done < <(find "$corpus/partitions" -type f -print0)
fi

# Initramfs images: an early microcode archive, then the main one in every compression.
mkdir -p "$work/root/usr/lib/modules/6.1.0-28-amd64/kernel/drivers/nvme/host" "$work/early/kernel/x86/microcode"
printf 'module' >"$work/root/usr/lib/modules/6.1.0-28-amd64/kernel/drivers/nvme/host/nvme.ko"
printf '6.1.0-28-amd64\n' >"$work/root/usr/lib/modules/6.1.0-28-amd64/modules.builtin"
ln -s usr/lib "$work/root/lib"
printf 'microcode' >"$work/early/kernel/x86/microcode/GenuineIntel.bin"
(cd "$work/root" && find . | cpio --quiet -o -H newc >"$work/main.cpio")
(cd "$work/early" && find . | cpio --quiet -o -H newc >"$work/early.cpio")
seed initramfs "" "$work/main.cpio"
gzip -9nc "$work/main.cpio" >"$work/main.gz"
xz --check=crc32 -c "$work/main.cpio" >"$work/main.xz"
xz --format=lzma -c "$work/main.cpio" >"$work/main.lzma"
zstd -q -c "$work/main.cpio" >"$work/main.zst"
lz4 -q -l -c "$work/main.cpio" >"$work/main.lz4"
for kind in gz xz lzma zst lz4; do
  seed initramfs "" "$work/main.$kind"
  cat "$work/early.cpio" "$work/main.$kind" >"$work/both.$kind"
  seed initramfs "" "$work/both.$kind"
done

# Appliance kernels: small bzImages around an x86-64 ELF with a PVH entry note, each payload
# packed as the kernel's build packs it (the compressor's output, then the size but for gzip).
python3 - "$work" <<'PY'
import struct, subprocess, sys
work = sys.argv[1]
notes = b''
for name, kind, desc in ((b'GNU\0', 3, b'build-id'), (b'Xen\0', 18, b'\0\0\0\1')):
    notes += struct.pack('<III', len(name), len(desc), kind) + name + desc
elf = bytearray(64)
elf[0:7] = b'\x7fELF\x02\x01\x01'
struct.pack_into('<H', elf, 18, 62)
struct.pack_into('<Q', elf, 32, 64)
struct.pack_into('<HH', elf, 54, 56, 1)
elf += struct.pack('<IIQQQQQQ', 4, 0, 64 + 56, 0, 0, len(notes), len(notes), 4) + notes + bytes(range(256)) * 16
for i, tool in enumerate((['gzip', '-9n'], ['xz', '--check=crc32'], ['xz', '--format=lzma'], ['zstd', '-q'], ['lz4', '-q', '-l'])):
    payload = subprocess.run(tool + ['-c'], input=bytes(elf), capture_output=True, check=True).stdout
    if tool[0] != 'gzip':
        payload += struct.pack('<I', len(elf))
    image = bytearray(1024)
    image[0x1f1] = 1
    image[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', image, 0x206, 0x20f)
    struct.pack_into('<II', image, 0x248, 0, len(payload))
    open(f'{work}/bzImage-{i}', 'wb').write(bytes(image) + payload)
PY
for image in "$work"/bzImage-*; do seed kernel "" "$image"; done

# SAM: real hives whole (selector 0), and one account's F and V records (selector 1).
[ -z "$corpus" ] || seeds sam '000' "$corpus/hives" -size -256k
python3 - "$work/account" <<'PY'
import struct, sys
f = bytearray(0x50); struct.pack_into('<H', f, 0x38, 0x0010)
name = 'Administrator'.encode('utf-16le'); ntlen = 20
v = bytearray(0xCC)
struct.pack_into('<III', v, 0x0C, 0, len(name), 0)
struct.pack_into('<III', v, 0xA8, len(name), ntlen, 0)
v += name + b'\x01' * ntlen
open(sys.argv[1], 'wb').write(bytes([len(f) & 0xff, len(f) >> 8]) + bytes(f) + bytes(v))
PY
seed sam '001' "$work/account"

# Network configurations, behind their rewriter's selector.
if [ -n "$corpus" ]; then
  seeds network_rewrite '000' "$corpus/linux/networkmanager/ifcfg-rh" -name 'ifcfg-*'
  seeds network_rewrite '001' "$corpus/linux/networkmanager/ifupdown"
  seeds network_rewrite '002' "$corpus/linux/networkmanager/ifupdown"
  seeds network_rewrite '003' "$corpus/linux/netplan" -name '*.yaml'
  seeds network_rewrite '004' "$corpus/linux/networkmanager/keyfiles"
  seeds network_rewrite '004' "$corpus/linux/cloud-init" -name '*.nmconnection'
  seeds network_rewrite '005' "$corpus/linux/systemd-network"
  seeds network_rewrite '005' "$corpus/linux/cloud-init" -name '*.network'
fi
printf 'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="00:50:56:aa:bb:cc", NAME="eth0"\n# comment\n' >"$work/udev"
seed network_rewrite '006' "$work/udev"
printf 'auto lo\niface lo inet loopback\nallow-hotplug ens192\niface ens192 inet static\n  address 10.0.0.5/24\n  gateway 10.0.0.1\n  dns-nameservers 10.0.0.2\n' >"$work/interfaces"
seed network_rewrite '001' "$work/interfaces"

# fstab.
[ -z "$corpus" ] || seeds fstab "" "$corpus/linux/fstab"
printf '# <file system> <mount point> <type> <options> <dump> <pass>\n/dev/sda1 / ext4 errors=remount-ro 0 1\n/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0\n/dev/fd0 /media/floppy auto rw 0 0\nserver:/export /mnt nfs defaults 0 0\nUUID=abcd none swap sw 0 0\n' >"$work/fstab"
seed fstab "" "$work/fstab"

# GRUB: grub.cfg with and without timeouts (0), the same as appliance output (1), default files
# (2), menu.lst (3), BLS entries (4), kernel command lines (5), grubenv (6); selector in bits 5-7.
if [ -n "$corpus" ]; then
  seeds grub '001' "$corpus/linux/grub" -name 'grub2*'
  seeds grub '021' "$corpus/linux/grub" -name 'grub2*'
  seeds grub '043' "$corpus/linux/grub" -name 'grub2*'
  seeds grub '101' "$corpus/linux/grub" -path '*default*'
  seeds grub '141' "$corpus/linux/grub" -name 'grub.[0-9]*'
fi
printf 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=10\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="root=/dev/sda1"\n#GRUB_DISABLE_LINUX_UUID=true\n' >"$work/default-grub"
seed grub '100' "$work/default-grub"
printf 'title Debian GNU/Linux 12\nlinux /vmlinuz-6.1.0-28-amd64\ninitrd /initrd.img-6.1.0-28-amd64\noptions root=/dev/sda1 ro quiet\n' >"$work/bls"
seed grub '200' "$work/bls"
printf 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro console=tty0 resume=/dev/sda2 quiet' >"$work/args"
seed grub '240' "$work/args"
{ printf '# GRUB Environment Block\nsaved_entry=gnulinux-simple\nnext_entry=\n'; head -c 960 /dev/zero | tr '\0' '#'; printf 'Debian'; } >"$work/grubenv"
seed grub '300' "$work/grubenv"

# Linux roots: os-release, lsb-release, debian_version, hostname, fstab, dpkg status, NUL apart.
{
  printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n\0'
  printf 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n\0'
  printf '12.4\n\0web01\n\0'
  printf 'UUID=1234 / ext4 defaults 0 1\n/dev/sda2 /boot ext4 defaults 0 2\n/dev/cdrom /media/cdrom iso9660 noauto 0 0\n\0'
  printf 'Package: open-vm-tools\nStatus: install ok installed\n\nPackage: old\nStatus: deinstall ok config-files\n'
} >"$work/root-files"
seed linux_root "" "$work/root-files"
echo "fuzz seeds: $n files in $seeds"
