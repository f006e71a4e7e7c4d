#!/usr/bin/env bash
# Installs what vmfix needs on Debian 12, for one purpose and those before it:
#   scripts/install-deps.sh run     what the vmfix binary runs with (libguestfs and its appliance)
#   scripts/install-deps.sh build   and what building it takes (compiler, headers, help2man)
#   scripts/install-deps.sh [test]  and what the test suite uses (GoogleTest, guestfish and
#                                   hivexregedit as independent readers, clang for the fuzzers,
#                                   Slurm, awscli, man-db); the default
# Idempotent: packages already present are not reinstalled, and it is quiet when there is nothing
# to do.
set -euo pipefail

purpose=${1:-test}
run=(
  libguestfs0 supermin linux-image-amd64 qemu-utils qemu-system-x86 libguestfs-xfs ntfs-3g dosfstools
  libhivex0 xz-utils libnbd0 libdeflate0
)
build=(
  build-essential cmake pkg-config ninja-build python3 help2man
  libguestfs-dev libhivex-dev libselinux1-dev libboost-program-options-dev libfmt-dev nlohmann-json3-dev
  libxml2-dev libssl-dev zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libsqlite3-dev libnbd-dev libdeflate-dev
)
test=(
  libgtest-dev libgmock-dev
  libguestfs-tools guestfs-tools libhivex-bin libwin-hivex-perl sqlite3
  fdisk gdisk bc cpio zstd lz4 initramfs-tools grub2-common grub-pc-bin
  clang libclang-rt-14-dev clang-format
  slurm-wlm munge
  awscli  # its EC2 service model and CLI check the AWS import documents
  man-db bash-completion  # the installed package's man page and completion are tried
  bindfs  # a FUSE directory where SQLite's WAL fails, for the batch journal
  procps util-linux hostname
)
case $purpose in
  run) packages=("${run[@]}") ;;
  build) packages=("${run[@]}" "${build[@]}") ;;
  test) packages=("${run[@]}" "${build[@]}" "${test[@]}") ;;
  *) echo "usage: $0 [run|build|test]" >&2; exit 64 ;;
esac

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
