#!/usr/bin/env bash
# Slow acceptance test: boots an image vmfix remediated under qemu (software emulation, user-mode
# network, a virtio NIC whose name the guest has never seen) and shows it gets an address by DHCP.
#   tests/acceptance/boot-dhcp.sh IMAGE [TIMEOUT_SECONDS]
#   VMFIX_BOOT_DISK=nvme attaches the disk as NVMe (as on Nitro) instead of virtio-blk.
# The image is never written: a qcow2 overlay gets a one-shot unit that prints the guest's IPv4
# addresses to the serial console and powers off. The kernel's own messages reach the same log
# only because vmfix put console=ttyS0 on the command line. Exits non-zero unless the guest
# reports qemu's DHCP address (10.0.2.15).
set -euo pipefail
image=$(realpath "$1")
limit=${2:-900}
work=$(mktemp -d /var/tmp/vmfix-boot.XXXXXX)
trap 'rm -rf "$work"' EXIT
accel_cache="${VMFIX_CACHE_DIR:-/var/tmp/.vmfix-$(id -u)}/accel"
if [ -f "$accel_cache" ] && [ "$(head -n1 "$accel_cache")" = tcg ]; then export LIBGUESTFS_BACKEND_SETTINGS=force_tcg; fi

format=$(qemu-img info --output=json "$image" | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')
qemu-img create -q -f qcow2 -b "$image" -F "$format" "$work/probe.qcow2"
guestfish -a "$work/probe.qcow2" -i <<'GUESTFISH'
write /etc/systemd/system/vmfix-probe.service "[Unit]\nDescription=vmfix boot probe\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'exec > /dev/ttyS0 2>&1; echo VMFIX-PROBE-LINKS $(ls /sys/class/net); echo VMFIX-PROBE-ADDRESSES $(ip -4 -o addr show scope global); journalctl -b --no-pager -u networking | tail -n 15; systemctl poweroff'\n\n[Install]\nWantedBy=multi-user.target\n"
ln-sf /etc/systemd/system/vmfix-probe.service /etc/systemd/system/multi-user.target.wants/vmfix-probe.service
GUESTFISH

disk=(-drive "file=$work/probe.qcow2,format=qcow2,if=virtio")
if [ "${VMFIX_BOOT_DISK:-virtio}" = nvme ]; then
  disk=(-drive "file=$work/probe.qcow2,format=qcow2,if=none,id=disk0" -device nvme,drive=disk0,serial=vmfix0)
fi
start=$(date +%s)
timeout "$limit" qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m 1024 -smp 1 -display none -monitor none \
  -serial "file:$work/serial.log" -no-reboot \
  "${disk[@]}" -nic user,model=virtio-net-pci || true
elapsed=$(( $(date +%s) - start ))
log=$work/serial.log
tr -d '\r' < "$log" | grep -a -E "Linux version|VMFIX-PROBE|DHCP|Reached target|Failed" | head -40 || true
if grep -a -q "VMFIX-PROBE-ADDRESSES.*10\.0\.2\.15" "$log"; then
  echo "boot-dhcp: OK: booted from ${VMFIX_BOOT_DISK:-virtio} and got 10.0.2.15 by DHCP in ${elapsed}s"
  exit 0
fi
echo "boot-dhcp: FAILED after ${elapsed}s; last lines of the serial console:"
tail -n 30 "$log" | tr -d '\r'
exit 1
