#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, address and undefined-behaviour sanitizers in
# build-fuzz/, then runs each one for SECONDS (default 20) from a seed corpus: the third-party
# corpus when ../shared is there, and small images, descriptors and archives made here.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# TARGET: ovf vmdk_descriptor image tar manifest aws_document batch_manifest (what users hand
# over), partition_table initramfs sam grub network_rewrite fstab linux_root (what a guest holds),
# kernel (the bzImage the appliance boots uncompressed). Seeds of the guest targets and the kernel
# are made by scripts/fuzz-seeds.sh.
# A crash, a sanitizer report or a leak fails the run; the input that did it is left in
# build-fuzz/crashes/.
#   scripts/fuzz.sh --runs N [TARGET...]   the long run: each target until N executions (no time
#   limit), two targets at once on a machine with two or more cores; the corpus grows in
#   build-fuzz/corpus/ and carries over to the next run; each target logs to
#   build-fuzz/TARGET-runs.log, so short runs beside it (scripts/test.sh) leave that log alone.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=()
log_suffix=""
asan_options=detect_leaks=1
if [ "${1:-}" = --runs ]; then
  limit=(-runs="$2")
  log_suffix="-runs"  # a long run keeps its own log: a short run meanwhile would truncate it
  # No allocation stacks: recording one at every malloc and free costs the long run 40-50% of
  # its executions. A finding is reproduced with full stacks by running its input again.
  asan_options+=:malloc_context_size=0
  shift 2
else
  limit=(-max_total_time="${1:-20}")
  shift || true
fi
targets=("$@")
all=(ovf vmdk_descriptor image tar manifest aws_document batch_manifest partition_table initramfs sam grub network_rewrite fstab linux_root kernel)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVMFIX_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz --parallel "$(nproc)" --target "${targets[@]/#/fuzz_}"

seeds=build-fuzz/seeds
corpus=../shared/corpus
if [ ! -d "$seeds/image" ]; then
  mkdir -p "$seeds"/{ovf,vmdk_descriptor,image,tar,manifest}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  printf '\x55\xaa' | dd of="$work/mbr.raw" bs=1 seek=510 conv=notrunc status=none
  truncate -s 1M "$work/mbr.raw"
  for spec in "qcow2 -" "vpc subformat=dynamic" "vpc subformat=fixed" "vhdx -" "vmdk subformat=monolithicSparse" \
              "vmdk subformat=streamOptimized" "vmdk subformat=monolithicFlat"; do
    read -r format options <<<"$spec"
    name="$format-${options#subformat=}"
    args=(-q -f raw -O "$format")
    [ "$options" = "-" ] || args+=(-o "$options")
    qemu-img convert "${args[@]}" "$work/mbr.raw" "$work/$name.img"
    if [ "$options" = "subformat=monolithicFlat" ]; then
      cp "$work/$name.img" "$seeds/vmdk_descriptor/$name.txt"
    else
      cp "$work/$name.img" "$seeds/image/$name.img"
    fi
  done
  cp "$work/mbr.raw" "$seeds/image/"
  printf 'hello' >"$work/disk.vmdk"
  printf '<Envelope/>' >"$work/vm.ovf"
  tar --format=ustar -C "$work" -cf "$seeds/tar/ustar.tar" vm.ovf disk.vmdk
  tar --format=pax -C "$work" -cf "$seeds/tar/pax.tar" vm.ovf disk.vmdk
  tar --format=gnu -C "$work" -cf "$seeds/tar/gnu.tar" vm.ovf disk.vmdk
  printf 'SHA256(vm.ovf)= %s\nSHA1(disk.vmdk)= %s\n' "$(sha256sum <"$work/vm.ovf" | cut -c1-64)" \
    "$(sha1sum <"$work/disk.vmdk" | cut -c1-40)" >"$seeds/manifest/vm.mf"
  cp fuzz/seeds/ovf/* "$seeds/ovf/"  # hand-made: what broke once, or nearly did
  if [ -d "$corpus" ]; then
    find "$corpus/ovf" -name '*.ovf' -exec cp {} "$seeds/ovf/" \;
    find "$corpus/ovf" -name '*.mf' -exec cp {} "$seeds/manifest/" \;
    find "$corpus/ovf" -name '*.ova' -size -200k -exec cp {} "$seeds/tar/" \;
    find "$corpus/disks" -type f -size -3M -exec cp {} "$seeds/image/" \;
  fi
fi

[ -d "$seeds/kernel" ] || scripts/fuzz-seeds.sh "$seeds" "$corpus"
for target in aws_document batch_manifest; do  # hand-made: as vmfix writes them, as users write them
  mkdir -p "$seeds/$target" && cp -n "fuzz/seeds/$target"/* "$seeds/$target/"
done

mkdir -p build-fuzz/crashes
# One target's run; its figures (executions, new units, coverage, seconds) on one line.
fuzz_one() {
  local target=$1 start=$SECONDS log=build-fuzz/$1$log_suffix.log
  mkdir -p "build-fuzz/corpus/$target"
  if ! ASAN_OPTIONS=$asan_options UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/fuzz/fuzz_$target" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
      -artifact_prefix="build-fuzz/crashes/$target-" -print_final_stats=1 \
      "build-fuzz/corpus/$target" "$seeds/$target" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $target FAILED; the input is in build-fuzz/crashes/" >&2
    return 1
  fi
  printf 'fuzz: %-16s %s %s, %ss\n' "$target" \
    "$(grep -a -E '^stat::number_of_executed_units|^stat::new_units_added' "$log" | tr '\n' ' ')" \
    "$(grep -a -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)" "$((SECONDS - start))"
}
echo "fuzz: ${limit[*]#-} per target"
if [[ "${limit[0]}" == -runs=* ]] && [ "$(nproc)" -ge 2 ]; then
  # The long run: two targets at a time, one per core; the next starts when either ends.
  for target in "${targets[@]}"; do
    [ "$(jobs -rp | wc -l)" -lt 2 ] || wait -n || exit 1
    fuzz_one "$target" &
  done
  while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || exit 1; done
else
  for target in "${targets[@]}"; do fuzz_one "$target" || exit 1; done
fi
