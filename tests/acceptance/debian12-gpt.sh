#!/usr/bin/env bash
# Acceptance (slow, minutes): a real Debian 12 on GPT with a BIOS boot partition, GRUB installed by
# the guest's own grub-install, swap mounted by PARTUUID. vmfix converts it to MBR, and this shows:
#   - the MBR has the same partition boundaries and types as `sgdisk --gpttombr` gives, and
#     sfdisk and fdisk read it without a warning; no GPT header is left;
#   - with `--fix gpt-to-mbr` alone, the swap partition is byte-identical and the root filesystem
#     differs only in GRUB's own files and fstab's PARTUUID (changed-files.py: block by block);
#   - `vmfix --all --profile aws-2017` (MBR required) converts it, and the result boots under qemu
#     in BIOS mode and gets an address by DHCP (boot-dhcp.sh).
#   tests/acceptance/debian12-gpt.sh [WORKDIR]   (default /var/tmp/vmfix-acceptance; the debootstrap
#   tree of debian12.sh is reused when it is there)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/var/tmp/vmfix-acceptance}
root=$work/debian12-root
image=$work/debian12-gpt.raw
mkdir -p "$work"
. "$here/tests/acceptance/common.sh"
use_vmfix_acceleration
fail() { echo "acceptance gpt: MISMATCH: $*"; exit 1; }
debian12_tree "$root"

# 3 GiB: BIOS boot (sectors 2048-4095), root ext4, 64 MiB swap at the end.
if [ ! -f "$image" ]; then
  tar -C "$root" -cf "$work/root.tar" .
  rm -f "$image.part"
  truncate -s 3G "$image.part"
  # Guest programs reach the disk by its label: the appliance's kernel may name it other than /dev/sda.
  guestfish <<GUESTFISH
add-drive "$image.part" format:raw label:guest
run
part-init /dev/sda gpt
part-add /dev/sda p 2048 4095
part-set-gpt-type /dev/sda 1 21686148-6449-6E6F-744E-656564454649
part-add /dev/sda p 4096 6160383
part-add /dev/sda p 6160384 -34
part-set-gpt-type /dev/sda 3 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
mkfs ext4 /dev/sda2 label:debian-root
mkswap /dev/sda3
mount /dev/sda2 /
tar-in $work/root.tar /
write /etc/hostname "bookworm-gpt\n"
write /etc/network/interfaces "source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n\nallow-hotplug ens192\niface ens192 inet static\n    address 10.9.8.7/24\n    gateway 10.9.8.1\n"
write /etc/fstab "LABEL=debian-root / ext4 errors=remount-ro 0 1\n"
command "sh -c 'echo PARTUUID=\$(blkid -s PARTUUID -o value /dev/disk/guestfs/guest3) none swap sw 0 0 >> /etc/fstab'"
command "grub-install --target=i386-pc /dev/disk/guestfs/guest"
command "update-grub"
GUESTFISH
  rm -f "$work/root.tar"
  mv "$image.part" "$image"
fi
sgdisk -p "$image" | tail -4

# The oracle: sgdisk's own conversion of the kept partitions (2 and 3) on a copy.
cp --sparse=always "$image" "$work/gpt-sgdisk.raw"
sgdisk --gpttombr=2:3 "$work/gpt-sgdisk.raw" >/dev/null
layout() { sfdisk --dump "$1" | sed -n 's/.*: start= *\([0-9]*\), size= *\([0-9]*\), type=\([0-9a-f]*\).*/\1 \2 \3/p'; }

# 1. The conversion alone.
only=$work/gpt-only.raw
rm -f "$only"
start=$(date +%s)
"$here/build/vmfix" --fix gpt-to-mbr --force --output-format raw -o "$only" --json "$image" > "$work/gpt-only.json" || true
[ -f "$only" ] || fail "vmfix --fix gpt-to-mbr wrote nothing: $(tail -c 600 "$work/gpt-only.json")"
echo "vmfix --fix gpt-to-mbr: $(( $(date +%s) - start )) s"
[ "$(layout "$only")" = "$(layout "$work/gpt-sgdisk.raw")" ] || fail "layout $(layout "$only") != sgdisk's $(layout "$work/gpt-sgdisk.raw")"
sfdisk --verify "$only" >/dev/null || fail "sfdisk --verify"
if fdisk -l "$only" 2>&1 | grep -qi warning; then fail "fdisk warns: $(fdisk -l "$only" 2>&1)"; fi
sfdisk --dump "$only" | grep -q "bootable" || fail "no active partition"
if grep -c "EFI PART" <(head -c 1M "$only"; tail -c 1M "$only") >/dev/null; then fail "a GPT header is left"; fi
cmp <(dd if="$image" bs=512 skip=6160384 count=131039 status=none) <(dd if="$only" bs=512 skip=6160384 count=131039 status=none) ||
  fail "the swap partition changed"
# Block by block, then each differing block's owner by debugfs (virt-diff --checksum takes over
# ten minutes under software emulation; this takes half a minute).
changed=$(python3 "$here/tests/acceptance/changed-files.py" "$image" "$only" 4096 6156288)
echo "$changed" | grep -v -E '^(/boot/grub/|metadata )' | sed 's/^/  changed: /'
echo "  changed: $(echo "$changed" | grep -c '^/boot/grub/') files under /boot/grub; filesystem metadata blocks: $(echo "$changed" | sed -n 's/^metadata //p')"
others=$(echo "$changed" | grep -v -E '^(/boot/grub/|/etc/fstab$|metadata )' || true)
[ -z "$others" ] || fail "files outside GRUB's changed: $others"
grep -q "PARTUUID=[0-9a-f]\{8\}-03 none swap" <(guestfish --ro -a "$only" -i cat /etc/fstab) || fail "fstab's swap PARTUUID"
echo "acceptance gpt --fix: OK (same layout as sgdisk, swap byte-identical, only GRUB's files and fstab changed)"

# 2. --all under the profile that needs MBR, then a BIOS boot.
fixed=$work/debian12-gpt-fixed.vmdk
rm -f "$fixed"
"$here/build/vmfix" --all --profile aws-2017 --force -o "$fixed" --json "$image" > "$work/gpt-all.json" || true
python3 - "$work/gpt-all.json" <<'CHECK'
import json, sys
report = json.load(open(sys.argv[1]))
bad = []
findings = {f["id"]: f for f in report["findings"]}
if findings["boot-partitioning"]["status"] != "fixed": bad.append("boot-partitioning " + findings["boot-partitioning"]["status"])
if findings["boot-active-partition"]["status"] != "pass": bad.append("boot-active-partition")
if report["guest"]["disks"][0]["partition_table"] != "mbr": bad.append("the report's table")
blocking = [f["id"] for f in report["findings"] if f["status"] == "fail" and f["severity"] == "blocker"]
# Debian 12 is newer than the 2017 page's list: those are the only blockers allowed to remain.
if set(blocking) - {"os-supported", "linux-kernel-supported"}: bad.append("blockers " + ", ".join(blocking))
if not report["output"]["written"]: bad.append("not written")
print("acceptance gpt --all:", "OK" if not bad else "MISMATCH " + "; ".join(bad))
sys.exit(1 if bad else 0)
CHECK
"$here/tests/acceptance/boot-dhcp.sh" "$fixed"
