# Sourced by the acceptance scripts.

# The libguestfs tools the scripts call get the acceleration vmfix's launch policy settled on.
use_vmfix_acceleration() {
  local cache="${VMFIX_CACHE_DIR:-/var/tmp/.vmfix-$(id -u)}/accel"
  if [ ! -f "$cache" ]; then  # a new machine: one launch on an empty filesystem settles the question
    local blank
    blank=$(mktemp /var/tmp/vmfix-blank-XXXXXX.raw)
    truncate -s 64M "$blank" && mkfs.ext4 -q -F "$blank"
    "$(dirname "${BASH_SOURCE[0]}")/../../build/vmfix" --inspect -q "$blank" >/dev/null 2>&1 || true
    rm -f "$blank"
  fi
  if [ -f "$cache" ] && [ "$(head -n1 "$cache")" = tcg ]; then export LIBGUESTFS_BACKEND_SETTINGS=force_tcg; fi
}

# A Debian 12 tree at $1 made by debootstrap from the Debian archive (minutes, once; kept): the
# kernel, grub-pc, ifupdown with dhclient, systemd, and open-vm-tools for vmfix to remove.
debian12_tree() {
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  [ -x "$1/bin/bash" ] && return
  debootstrap --variant=minbase \
    --include=linux-image-amd64,grub-pc,ifupdown,systemd-sysv,open-vm-tools,isc-dhcp-client \
    bookworm "$1" http://deb.debian.org/debian
}
