#!/usr/bin/env bash
# Installs everything vmfix needs to build, test and run on Debian 12. Idempotent: packages
# already present are not reinstalled, and the script is quiet when there is nothing to do.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libguestfs-dev libguestfs-tools guestfs-tools supermin linux-image-amd64 ntfs-3g dosfstools
  libguestfs-xfs libhivex-dev libhivex-bin libwin-hivex-perl libselinux1-dev
  libboost-program-options-dev libfmt-dev nlohmann-json3-dev libxml2-dev libssl-dev
  zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev
  qemu-utils fdisk gdisk xz-utils bc cpio zstd lz4 initramfs-tools
  grub2-common grub-pc-bin
  clang libclang-rt-14-dev clang-format
  slurm-wlm munge
  awscli  # its EC2 service model and CLI check the AWS import documents
  python3 procps util-linux hostname
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
