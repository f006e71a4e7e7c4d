#!/usr/bin/env bash
# Benchmarks vmfix against its peer tools, side by side in one run, on the project's fixtures.
#   bench/run.sh [ROUNDS]     (default 2 rounds; each round runs every tool once per image)
# Today: `vmfix --inspect` vs libguestfs's `virt-inspector` (the same question, the same
# appliance). Both run under the same acceleration: the one vmfix's launch policy picked.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
[ -x build/vmfix ] || ./scripts/build.sh
# Ubuntu rather than CentOS: the CentOS fixture has no rpm database, and virt-inspector fails on
# that (vmfix notes it and goes on); a failed run is no measurement.
images=$(./build/vmfix-fixtures build build/fixtures ubuntu1804-vmware win2012r2-vmware)

# Let vmfix settle the acceleration question first, then give virt-inspector the same answer.
cache="${VMFIX_CACHE_DIR:-/var/tmp/.vmfix-$(id -u)}/accel"
./build/vmfix --inspect -q $(echo "$images" | head -n1) >/dev/null || true
if [ -f "$cache" ] && [ "$(head -n1 "$cache")" = tcg ]; then
  export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
  accel="software emulation (TCG)"
else
  accel="KVM"
fi

qemu_format() { qemu-img info --output=json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["format"])'; }
seconds() { local start=$(date +%s.%N); "$@" >/dev/null 2>&1 || echo "  ! $1 failed" >&2; echo "$(date +%s.%N) - $start" | bc; }

printf 'acceleration: %s, rounds: %s, machine: %s cores\n\n' "$accel" "$rounds" "$(nproc)"
printf '%-22s %-16s %10s %10s %8s\n' image tool best_s mean_s ratio
for image in $images; do
  name=$(basename "$image" | sed 's/-[0-9a-f]\{16\}\..*//')
  declare -a ours=() theirs=()
  for ((r = 0; r < rounds; r++)); do
    ours+=("$(seconds ./build/vmfix --inspect --json "$image")")
    theirs+=("$(seconds virt-inspector --format="$(qemu_format "$image")" -a "$image")")
  done
  best() { printf '%s\n' "$@" | sort -n | head -n1; }
  mean() { printf '%s\n' "$@" | awk '{s+=$1} END {printf "%.1f", s/NR}'; }
  b_ours=$(best "${ours[@]}"); b_theirs=$(best "${theirs[@]}")
  printf '%-22s %-16s %10.1f %10s %8s\n' "$name" "vmfix --inspect" "$b_ours" "$(mean "${ours[@]}")" \
    "$(echo "scale=2; $b_ours / $b_theirs" | bc)"
  printf '%-22s %-16s %10.1f %10s %8s\n' "$name" "virt-inspector" "$b_theirs" "$(mean "${theirs[@]}")" "1.00"
  unset ours theirs
done
