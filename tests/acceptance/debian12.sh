#!/usr/bin/env bash
# Acceptance: a real Debian 12 guest, made with debootstrap (needs the Debian archive; minutes),
# turned into a VMDK of about 3 GB with GRUB installed by the guest's own grub-install, then inspected, then
# remediated with vmfix --all and the output read back with guestfish and the guest's own dpkg.
# grub.cfg is edited in place: its entries boot, so the guest's grub-mkconfig must not run.
#   tests/acceptance/debian12.sh [WORKDIR]      (default /var/tmp/vmfix-acceptance)
# Prints vmfix's JSON and checks the facts that matter; exits non-zero on a mismatch.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/var/tmp/vmfix-acceptance}
root=$work/debian12-root
image=$work/debian12.vmdk
mkdir -p "$work"
. "$here/tests/acceptance/common.sh"
use_vmfix_acceleration
debian12_tree "$root"

if [ ! -f "$image" ]; then
  tar -C "$root" -cf "$work/root.tar" .
  virt-make-fs --partition=mbr --type=ext4 --size=+2G --format=raw "$work/root.tar" "$work/debian12.raw"
  rm -f "$work/root.tar"
  # What the Debian installer would have written, then GRUB installed by the guest itself. Guest
  # programs reach the disk by its label: the appliance's kernel may name it other than /dev/sda.
  guestfish <<GUESTFISH
add-drive "$work/debian12.raw" format:raw label:guest
run
part-set-bootable /dev/sda 1 true
set-label /dev/sda1 debian-root
mount /dev/sda1 /
write /etc/hostname "bookworm-vm\n"
write /etc/network/interfaces "source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n\nallow-hotplug ens192\niface ens192 inet static\n    address 10.9.8.7/24\n    gateway 10.9.8.1\n"
write /etc/fstab "LABEL=debian-root / ext4 errors=remount-ro 0 1\n/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0\n"
command "grub-install --target=i386-pc /dev/disk/guestfs/guest"
command "update-grub"
GUESTFISH
  qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized "$work/debian12.raw" "$image"
  rm -f "$work/debian12.raw"
fi

"$here/build/vmfix" --inspect --json "$image" | tee "$work/debian12.json"
python3 - "$work/debian12.json" <<'CHECK'
import json, sys
report = json.load(open(sys.argv[1]))
g = report["guest"]
expect = {
    "os_type": "linux", "distro": "debian", "major_version": 12, "arch": "x86_64",
    "hostname": "bookworm-vm", "package_format": "deb", "boot_mode": "bios",
}
bad = [f"{k}: {g.get(k)!r} != {v!r}" for k, v in expect.items() if g.get(k) != v]
if report["image"]["disks"][0]["variant"] != "streamOptimized": bad.append("variant")
if not any(b["kind"] == "grub2" and b["firmware"] == "bios" for b in g["bootloaders"]): bad.append("grub2 bios")
if not any(n["stack"] == "ifupdown" and n["method"] == "static" and n["interface"] == "ens192" for n in g["network"]): bad.append("network")
if not any(t["name"] == "open-vm-tools" and t["form"] == "package" for t in g["hypervisor_tools"]): bad.append("open-vm-tools")
if g["packages_count"] < 100: bad.append(f"packages_count {g['packages_count']}")
if g["disks"][0]["partition_table"] != "mbr" or not g["disks"][0]["partitions"][0]["bootable"]: bad.append("disk")
print("\nacceptance:", "OK" if not bad else "MISMATCH " + "; ".join(bad))
sys.exit(1 if bad else 0)
CHECK

# --all: open-vm-tools purged by the guest's dpkg, DHCP, fstab; the output ready; dpkg consistent.
fixed=$work/debian12-fixed.vmdk
rm -f "$fixed"
"$here/build/vmfix" --all --json -o "$fixed" "$image" > "$work/debian12-all.json" || { echo "vmfix --all failed"; exit 1; }
readback=$(guestfish --ro -a "$fixed" -i <<'GUESTFISH'
cat /etc/network/interfaces
sh "grep -c 'console=tty0 console=ttyS0,115200' /boot/grub/grub.cfg"
sh "grep -c 'hd1' /boot/grub/grub.cfg || true"
cat /etc/default/grub
sh "dpkg-query -W -f='${db:Status-Abbrev}|' open-vm-tools 2>&1 || true"
echo audit:
command "dpkg --audit"
GUESTFISH
)
echo "$readback"
python3 - "$work/debian12-all.json" "$readback" <<'CHECK'
import json, sys
report, readback = json.load(open(sys.argv[1])), sys.argv[2]
bad = []
if report["verdict"] != "ready": bad.append("verdict " + report["verdict"])
if not report["output"]["written"]: bad.append("not written")
fixed = {f["id"] for f in report["findings"] if f["status"] == "fixed"}
for rule in ("network-dhcp", "vmware-tools", "linux-fstab", "linux-grub-console"):
    if rule not in fixed: bad.append(rule + " not fixed")
passed = {f["id"] for f in report["findings"] if f["status"] == "pass"}
for rule in ("linux-initramfs-drivers", "linux-grub-default", "linux-grub-root"):
    if rule not in passed: bad.append(rule + " does not pass")
grub_changes = [c for c in report["changes"] if c["target"] == "/boot/grub/grub.cfg"]
if not grub_changes or any(c["after"].startswith("regenerated with") for c in grub_changes):
    bad.append("grub.cfg not edited in place (the menu boots: grub-mkconfig must not run)")
lines = readback.split("\n")
if "auto /e*/1=ens192" not in readback: bad.append("primary NIC not brought up by pattern")
if "iface ens192 inet dhcp" not in readback or "address 10.9.8.7" in readback: bad.append("interfaces")
if "ii|open-vm-tools" in readback: bad.append("open-vm-tools still installed")
if readback.strip().split("audit:")[-1].strip(): bad.append("dpkg --audit reports problems")
counts = [l for l in lines if l.strip().isdigit()]
if len(counts) < 2 or int(counts[0]) < 1 or int(counts[1]) != 0: bad.append(f"grub.cfg console/hd1 counts {counts}")
print("\nacceptance --all:", "OK" if not bad else "MISMATCH " + "; ".join(bad))
sys.exit(1 if bad else 0)
CHECK

# A second --all on the output: nothing failing before, nothing changed.
again=$work/debian12-again.vmdk
rm -f "$again"
"$here/build/vmfix" --all --json -o "$again" "$fixed" > "$work/debian12-again.json" || { echo "second vmfix --all failed"; exit 1; }
rm -f "$again"
python3 - "$work/debian12-again.json" <<'CHECK'
import json, sys
report = json.load(open(sys.argv[1]))
bad = []
if report["verdict_before"] != "ready": bad.append("verdict before " + report["verdict_before"])
if report["changes"]: bad.append("changed: " + ", ".join(c["target"] for c in report["changes"]))
print("acceptance second --all:", "OK" if not bad else "MISMATCH " + "; ".join(bad))
sys.exit(1 if bad else 0)
CHECK

# The remediated image boots under qemu on a NIC it has never seen and gets an address by DHCP.
"$here/tests/acceptance/boot-dhcp.sh" "$fixed"
