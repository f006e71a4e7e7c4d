#!/usr/bin/env bash
# Slow acceptance test of the initramfs fixer on a real guest: the Debian 12 image of debian12.sh
# gets a host-only initramfs (MODULES=dep, rebuilt by its own update-initramfs: no nvme, no
# xen-blkfront), vmfix --all must find that and rebuild it with the guest's update-initramfs,
# and the result must boot under qemu from an NVMe disk (as on Nitro) and get a DHCP address.
#   tests/acceptance/initramfs-rebuild.sh [WORKDIR]     (default /var/tmp/vmfix-acceptance)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/var/tmp/vmfix-acceptance}
source_image=$work/debian12-fixed.vmdk   # written by debian12.sh
[ -f "$source_image" ] || "$here/tests/acceptance/debian12.sh" "$work"
accel_cache="${VMFIX_CACHE_DIR:-/var/tmp/.vmfix-$(id -u)}/accel"
if [ -f "$accel_cache" ] && [ "$(head -n1 "$accel_cache")" = tcg ]; then export LIBGUESTFS_BACKEND_SETTINGS=force_tcg; fi
scratch=$(mktemp -d /var/tmp/vmfix-initramfs.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# A host-only initramfs, as dracut's default or MODULES=dep leaves it on a VMware guest.
overlay=$scratch/overlay.qcow2 hostonly=$work/debian12-hostonly.qcow2   # kept: it takes minutes
if [ ! -f "$hostonly" ] || [ "$hostonly" -ot "$source_image" ]; then
qemu-img create -q -f qcow2 -b "$source_image" -F vmdk "$overlay"
guestfish -a "$overlay" -i <<'GUESTFISH'
sh "sed -i 's/^MODULES=.*/MODULES=dep/' /etc/initramfs-tools/initramfs.conf"
sh "update-initramfs -u -k all"
GUESTFISH
qemu-img convert -O qcow2 "$overlay" "$hostonly.partial"   # vmfix refuses images with backing files
mv "$hostonly.partial" "$hostonly"
rm -f "$overlay"
fi
lsinitramfs_in() {  # the initramfs file list of an image, read by the host's lsinitramfs
  rm -rf "$scratch/boot"
  virt-copy-out -a "$1" /boot "$scratch/"
  lsinitramfs "$scratch"/boot/initrd.img-*
}
if lsinitramfs_in "$hostonly" | grep -E -q '/(nvme|xen-blkfront)\.ko'; then
  echo "initramfs-rebuild: the host-only initramfs still holds nvme or xen-blkfront; nothing to test"; exit 1
fi

fixed=$scratch/fixed.vmdk
status=0
"$here/build/vmfix" --all --json -v -o "$fixed" "$hostonly" > "$scratch/all.json" 2> "$scratch/all.err" || status=$?
if [ "$status" -ne 0 ]; then
  cat "$scratch/all.err"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); [print(f["id"], f["status"], f.get("evidence")) for f in r["findings"] if f["status"] in ("fail","unknown")]; print(json.dumps(r["changes"], indent=1))' "$scratch/all.json"
  exit 1
fi
grep '\[' "$scratch/all.err" || true
python3 - "$scratch/all.json" <<'CHECK'
import json, sys
report = json.load(open(sys.argv[1]))
bad = []
drivers = next(f for f in report["findings"] if f["id"] == "linux-initramfs-drivers")
if drivers["before"]["status"] != "fail" or drivers["status"] != "fixed": bad.append(f"linux-initramfs-drivers {drivers['before']['status']} -> {drivers['status']}")
rebuilt = [c for c in report["changes"] if c["fixer"] == "initramfs" and c["after"] == "rebuilt with update-initramfs"]
if not rebuilt: bad.append("no rebuild by update-initramfs: " + json.dumps([c for c in report["changes"] if c["fixer"] == "initramfs"]))
if report["verdict"] != "ready": bad.append("verdict " + report["verdict"])
print("initramfs-rebuild --all:", "OK" if not bad else "MISMATCH " + "; ".join(bad))
sys.exit(1 if bad else 0)
CHECK
listing=$(lsinitramfs_in "$fixed")
for module in nvme xen-blkfront; do
  echo "$listing" | grep -E -q "/$module\.ko" || { echo "initramfs-rebuild: $module missing after the rebuild (lsinitramfs)"; exit 1; }
done
echo "initramfs-rebuild: lsinitramfs finds nvme and xen-blkfront in the rebuilt initramfs"
VMFIX_BOOT_DISK=nvme "$here/tests/acceptance/boot-dhcp.sh" "$fixed"
