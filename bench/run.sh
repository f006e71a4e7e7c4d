#!/usr/bin/env bash
# Benchmarks vmfix against its peer tools, side by side in one run, on the project's fixtures.
#   bench/run.sh [ROUNDS] [SECTION...]   (default 2 rounds; sections: launch inspect in-place
#                                         windows-all debian-all output ova-input batch memory, default
#                                         all; each round runs every tool once per image)
#   0. the appliance's launch: seconds until vmfix's -v says "appliance launched" (process start,
#      opening the image, overlays, qemu and the appliance's boot) vs a bare
#      `guestfish --ro -a IMAGE run` (which makes its own overlay too), on every image;
#   1. `vmfix --inspect` and `vmfix --check` (inspection plus every rule of the profile) vs
#      libguestfs's `virt-inspector` (inspection only), on the same images;
#   2. on the Windows fixture, `vmfix --all` (check, 7 fixers in both control sets, unattend.xml,
#      re-check, write a new VHD) vs a copy of the image plus `virt-win-reg --merge` of the same
#      registry edits for the current control set only (bench/win-edits.reg): vmfix does more.
#   2b. on a raw copy of the real Debian 12 image, `vmfix --all --in-place` vs virt-customize doing
#      less (as in 3) on another raw copy, in place: no output file on either side;
#   3. on the real Debian 12 image, `vmfix --all` vs virt-customize doing less (--uninstall
#      open-vm-tools, --write a DHCP /etc/network/interfaces, --delete the persistent-net rules)
#      on a qcow2 overlay of the source, then `qemu-img convert` of that overlay to a
#      streamOptimized VMDK, the output vmfix writes; both times, and virt-customize's alone.
#   4. writing the output: for each format (or those in BENCH_OUTPUT_FORMATS), the time vmfix takes from the appliance's shutdown to a
#      verified output (convert, fsync, verify, rename; for an OVA also the manifest and the tar)
#      vs `qemu-img convert` of the same source to the same format (for an OVA: to a
#      streamOptimized VMDK), on the Debian 12 image (else the Windows fixture);
#   5. an OVA input: seconds until the appliance is up, from the OVA and from the bare disk, and
#      what `tar -x` alone would have cost first (vmfix reads the disks inside the archive);
#   6. `vmfix batch --all` on 4 copies of the Windows fixture with -j 1 and with -j 2: wall time,
#      throughput and its ratio, and the peak memory of a worker (the appliance's qemu, from the
#      summary);
#   7. peak memory: the largest resident set among the processes of one `vmfix --all -o X.vmdk`
#      (its qemu) vs guestfish inspecting and mounting the same image (`guestfish --ro -a IMAGE -i ll /`),
#      and on the Debian image also vs the virt-customize of 3 on an overlay (it runs apt, as vmfix
#      runs dpkg, in the appliance).
# The real Debian 12 image of tests/acceptance/debian12.sh is added when it exists.
# Everything runs under the same acceleration: the one vmfix's launch policy picked.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
shift || true
sections=${*:-launch inspect in-place windows-all debian-all output ova-input batch memory}
wants() { [[ " $sections " == *" $1 "* ]]; }
[ -x build/vmfix ] || ./scripts/build.sh
# Ubuntu rather than CentOS: the CentOS fixture has no rpm database, and virt-inspector fails on
# that (vmfix notes it and goes on); a failed run is no measurement.
images=$(./build/vmfix-fixtures build build/fixtures ubuntu1804-vmware win2012r2-vmware)
debian=/var/tmp/vmfix-acceptance/debian12.vmdk
[ -f "$debian" ] && images="$images $debian"

# Let vmfix settle the acceleration question first, then give virt-inspector the same answer.
cache="${VMFIX_CACHE_DIR:-/var/tmp/.vmfix-$(id -u)}/accel"
./build/vmfix --inspect -q $(echo "$images" | head -n1) >/dev/null || true
if { [ -f "$cache" ] && [ "$(head -n1 "$cache")" = tcg ]; } || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
  accel="software emulation (TCG)"
else
  accel="KVM"
fi

qemu_format() { qemu-img info --output=json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["format"])'; }
# Wall seconds of a command; vmfix's verdict exits (1 fixable, 2 blocked) are answers, not failures.
seconds() {
  local start=$(date +%s.%N) status=0
  "$@" >/dev/null 2>&1 || status=$?
  if [ "$status" -ne 0 ] && { [ "$1" != ./build/vmfix ] || [ "$status" -gt 2 ]; }; then echo "  ! $* failed ($status)" >&2; fi
  echo "$(date +%s.%N) - $start" | bc
}

printf 'acceleration: %s, rounds: %s, machine: %s cores\n\n' "$accel" "$rounds" "$(nproc)"
best() { printf '%s\n' "$@" | sort -n | head -n1; }
mean() { printf '%s\n' "$@" | awk '{s+=$1} END {printf "%.1f", s/NR}'; }
row() { printf '%-22s %-22s %10.1f %10s %8s\n' "$1" "$2" "$3" "$4" "$5"; }

printf '%-22s %-22s %10s %10s %8s\n' image tool best_s mean_s ratio
# Seconds from the start of a `vmfix -v` run to its "appliance launched" line.
launched_after() { awk '/appliance launched/ { split($0, a, /[][]/); printf "%.1f", a[2] + 0 }' "$1"; }
wants launch && for image in $images; do
  name=$(basename "$image" | sed 's/-[0-9a-f]\{16\}\..*//')
  declare -a ours=() bare=()
  for ((r = 0; r < rounds; r++)); do
    ./build/vmfix --check -v "$image" >/dev/null 2>/var/tmp/vmfix-bench-launch.log || true
    ours+=("$(launched_after /var/tmp/vmfix-bench-launch.log)")
    bare+=("$(seconds guestfish --ro --format="$(qemu_format "$image")" -a "$image" run)")
  done
  b_bare=$(best "${bare[@]}")
  row "$name" "vmfix launch" "$(best "${ours[@]}")" "$(mean "${ours[@]}")" "$(echo "scale=2; $(best "${ours[@]}") / $b_bare" | bc)"
  row "$name" "guestfish --ro run" "$b_bare" "$(mean "${bare[@]}")" "1.00"
  unset ours bare
done
rm -f /var/tmp/vmfix-bench-launch.log
wants inspect && for image in $images; do
  name=$(basename "$image" | sed 's/-[0-9a-f]\{16\}\..*//')
  declare -a inspect=() check=() theirs=()
  for ((r = 0; r < rounds; r++)); do
    inspect+=("$(seconds ./build/vmfix --inspect --json "$image")")
    check+=("$(seconds ./build/vmfix --check --json "$image")")
    theirs+=("$(seconds virt-inspector --format="$(qemu_format "$image")" -a "$image")")
  done
  b_theirs=$(best "${theirs[@]}")
  row "$name" "vmfix --inspect" "$(best "${inspect[@]}")" "$(mean "${inspect[@]}")" "$(echo "scale=2; $(best "${inspect[@]}") / $b_theirs" | bc)"
  row "$name" "vmfix --check" "$(best "${check[@]}")" "$(mean "${check[@]}")" "$(echo "scale=2; $(best "${check[@]}") / $b_theirs" | bc)"
  row "$name" "virt-inspector" "$b_theirs" "$(mean "${theirs[@]}")" "1.00"
  unset inspect check theirs
done

scratch=$(mktemp -d /var/tmp/vmfix-bench-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
interfaces=$'auto lo\niface lo inet loopback\n\nauto ens192\niface ens192 inet dhcp\n'
customize_less=(--uninstall open-vm-tools --write "/etc/network/interfaces:$interfaces"
  --delete /etc/udev/rules.d/70-persistent-net.rules)

# --all --in-place on raw against virt-customize in place, each on its own fresh raw copy.
if wants in-place && [ -f "$debian" ]; then
  declare -a ours=() theirs=()
  for ((r = 0; r < rounds; r++)); do
    rm -f "$scratch"/*
    qemu-img convert -f vmdk -O raw "$debian" "$scratch/ours.raw"
    cp --sparse=always "$scratch/ours.raw" "$scratch/theirs.raw"
    sync  # both start with the copies written back, not the first beside 3 GiB of writeback
    ours+=("$(seconds ./build/vmfix --all --in-place --json "$scratch/ours.raw")")
    sync
    theirs+=("$(seconds virt-customize --format raw -a "$scratch/theirs.raw" "${customize_less[@]}")")
  done
  b_theirs=$(best "${theirs[@]}")
  row debian12.raw "vmfix --all --in-place" "$(best "${ours[@]}")" "$(mean "${ours[@]}")" "$(echo "scale=2; $(best "${ours[@]}") / $b_theirs" | bc)"
  row debian12.raw "virt-customize, in place" "$b_theirs" "$(mean "${theirs[@]}")" "1.00"
  unset ours theirs
  rm -f "$scratch"/*
fi

# --all on Windows against virt-win-reg --merge of the same registry edits, each on a fresh copy.
windows=$(echo "$images" | tr ' ' '\n' | grep win2012r2)
declare -a all=() merge=()
wants windows-all && for ((r = 0; r < rounds; r++)); do
  rm -f "$scratch"/*
  all+=("$(seconds ./build/vmfix --all --json -o "$scratch/fixed.vhd" "$windows")")
  merge+=("$(seconds sh -c "cp --sparse=always '$windows' '$scratch/copy.vhd' && virt-win-reg --merge '$scratch/copy.vhd' bench/win-edits.reg")")
done
if wants windows-all; then
  b_merge=$(best "${merge[@]}")
  row win2012r2-vmware "vmfix --all" "$(best "${all[@]}")" "$(mean "${all[@]}")" "$(echo "scale=2; $(best "${all[@]}") / $b_merge" | bc)"
  row win2012r2-vmware "cp + virt-win-reg" "$b_merge" "$(mean "${merge[@]}")" "1.00"
fi

# --all on the real Debian 12 image against virt-customize doing less, then the same conversion.
if wants debian-all && [ -f "$debian" ]; then
  declare -a vall=() customize=() pipeline=()
  for ((r = 0; r < rounds; r++)); do
    rm -f "$scratch"/*
    vall+=("$(seconds ./build/vmfix --all --json -o "$scratch/fixed.vmdk" "$debian")")
    qemu-img create -q -f qcow2 -b "$debian" -F vmdk "$scratch/overlay.qcow2"
    c=$(seconds virt-customize -a "$scratch/overlay.qcow2" "${customize_less[@]}")
    v=$(seconds qemu-img convert -O vmdk -o subformat=streamOptimized "$scratch/overlay.qcow2" "$scratch/customized.vmdk")
    customize+=("$c")
    pipeline+=("$(echo "$c + $v" | bc)")
  done
  b_pipeline=$(best "${pipeline[@]}")
  row debian12 "vmfix --all" "$(best "${vall[@]}")" "$(mean "${vall[@]}")" "$(echo "scale=2; $(best "${vall[@]}") / $b_pipeline" | bc)"
  row debian12 "virt-customize+convert" "$b_pipeline" "$(mean "${pipeline[@]}")" "1.00"
  row debian12 "virt-customize alone" "$(best "${customize[@]}")" "$(mean "${customize[@]}")" "-"
fi

# The seconds between two of vmfix's -v step lines ("vmfix: [  12.3 s] what").
step_gap() {
  awk -v from="$2" -v to="$3" '
    index($0, from) { split($0, a, /[][]/); t0 = a[2] + 0 }
    index($0, to)   { split($0, a, /[][]/); t1 = a[2] + 0 }
    END { printf "%.1f", t1 - t0 }' "$1"
}
source_image=$debian
[ -f "$source_image" ] || source_image=$windows
source_format=$(qemu_format "$source_image")

if wants output; then
  for format in ${BENCH_OUTPUT_FORMATS:-vmdk vhd vhdx raw ova}; do
    declare -a ours=() peer=()
    case $format in
      vmdk | ova) peer_args=(-O vmdk -o subformat=streamOptimized) ;;
      vhd) peer_args=(-O vpc -o subformat=dynamic,force_size=on) ;;
      vhdx) peer_args=(-O vhdx) ;;
      raw) peer_args=(-O raw) ;;
    esac
    for ((r = 0; r < rounds; r++)); do
      rm -rf "$scratch"/*
      # A fixer that changes nothing on either guest's image quickly: the output is the same data.
      ./build/vmfix --fix rtc-utc --force -v --output-format "$format" -o "$scratch/out.$format" "$source_image" \
        >/dev/null 2>"$scratch/steps.log" || true
      [ -f "$scratch/out.$format" ] || { echo "  ! vmfix wrote no $format" >&2; continue; }
      ours+=("$(step_gap "$scratch/steps.log" "appliance shut down" "output written and verified")")
      rm -f "$scratch/out.$format"
      peer+=("$(seconds qemu-img convert -f "$source_format" "${peer_args[@]}" "$source_image" "$scratch/peer.img")")
    done
    [ ${#ours[@]} -gt 0 ] || continue
    b_peer=$(best "${peer[@]}")
    row "$(basename "$source_image" .vmdk)" "vmfix writes $format" "$(best "${ours[@]}")" "$(mean "${ours[@]}")" \
      "$(echo "scale=2; $(best "${ours[@]}") / $b_peer" | bc)"
    row "$(basename "$source_image" .vmdk)" "qemu-img convert" "$b_peer" "$(mean "${peer[@]}")" "1.00"
    unset ours peer
  done
fi

if wants ova-input; then
  rm -rf "$scratch"/*
  mkdir -p "$scratch/ova"
  qemu-img convert -f "$source_format" -O vmdk -o subformat=streamOptimized "$source_image" "$scratch/ova/disk1.vmdk"
  size=$(stat -c %s "$scratch/ova/disk1.vmdk")
  cat >"$scratch/ova/vm.ovf" <<OVF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:href="disk1.vmdk" ovf:id="file1" ovf:size="$size"/></References>
  <DiskSection><Info>disks</Info><Disk ovf:capacity="1" ovf:diskId="vmdisk1" ovf:fileRef="file1"/></DiskSection>
  <VirtualSystem ovf:id="bench"><Info>vm</Info><VirtualHardwareSection><Info>hw</Info>
    <Item><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>
  </VirtualHardwareSection></VirtualSystem>
</Envelope>
OVF
  tar --format=ustar -C "$scratch/ova" -cf "$scratch/vm.ova" vm.ovf disk1.vmdk
  declare -a from_ova=() from_disk=() untar=()
  for ((r = 0; r < rounds; r++)); do
    ./build/vmfix --check -v "$scratch/vm.ova" >/dev/null 2>"$scratch/ova.log" || true
    from_ova+=("$(awk '/appliance launched/ { split($0, a, /[][]/); printf "%.1f", a[2] + 0 }' "$scratch/ova.log")")
    ./build/vmfix --check -v "$scratch/ova/disk1.vmdk" >/dev/null 2>"$scratch/disk.log" || true
    from_disk+=("$(awk '/appliance launched/ { split($0, a, /[][]/); printf "%.1f", a[2] + 0 }' "$scratch/disk.log")")
    mkdir -p "$scratch/x" && sync
    untar+=("$(seconds tar -C "$scratch/x" -xf "$scratch/vm.ova")")
    rm -rf "$scratch/x"
  done
  row "ova ($(du -h "$scratch/vm.ova" | cut -f1))" "launched, from the OVA" "$(best "${from_ova[@]}")" "$(mean "${from_ova[@]}")" "-"
  row "ova" "launched, from the VMDK" "$(best "${from_disk[@]}")" "$(mean "${from_disk[@]}")" "-"
  row "ova" "tar -x alone" "$(best "${untar[@]}")" "$(mean "${untar[@]}")" "-"
fi

if wants batch; then
  rm -rf "$scratch"/*
  mkdir -p "$scratch/library"
  for name in app1 app2 app3 app4; do cp --sparse=always "$windows" "$scratch/library/$name.vhd"; done
  declare -A batch_best=()
  for jobs in 1 2; do
    declare -a wall=()
    for ((r = 0; r < rounds; r++)); do
      rm -rf "$scratch/out-$jobs"
      wall+=("$(seconds ./build/vmfix batch --all -q -j "$jobs" "$scratch/library" -o "$scratch/out-$jobs")")
    done
    b=$(best "${wall[@]}")
    row "4 x win2012r2" "batch -j $jobs" "$b" "$(mean "${wall[@]}")" "$(echo "scale=2; 4 * 60 / $b" | bc)/min"
    batch_best[$jobs]=$b
    unset wall
  done
  printf '%-22s %-22s %10s %10s %7sx\n' "4 x win2012r2" "throughput -j 2 / -j 1" - - \
    "$(echo "scale=2; ${batch_best[1]} / ${batch_best[2]}" | bc)"
  peak=$(python3 -c 'import json, sys; print(max(i["peak_rss_mib"] for i in json.load(open(sys.argv[1]))["images"]))' "$scratch/out-2/summary.json")
  printf '%-22s %-22s %10s MiB (the largest process of a worker: its qemu)\n' "4 x win2012r2" "peak memory per worker" "$peak"
fi

# The largest resident set among a command's processes, in MiB (getrusage of its waited-for
# descendants: qemu, for both tools).
peak_mib() {
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$@"
}
if wants memory; then
  declare -a ours=() theirs=()
  for ((r = 0; r < rounds; r++)); do
    rm -rf "$scratch"/*
    ours+=("$(peak_mib ./build/vmfix --all -q -o "$scratch/fixed.vmdk" "$source_image")")
    theirs+=("$(peak_mib guestfish --ro --format="$source_format" -a "$source_image" -i ll /)")
  done
  b_theirs=$(best "${theirs[@]}")
  printf '%-22s %-22s %10s %10s %8s\n' "$(basename "$source_image")" "vmfix --all peak MiB" "$(best "${ours[@]}")" "$(mean "${ours[@]}")" \
    "$(echo "scale=2; $(best "${ours[@]}") / $b_theirs" | bc)"
  printf '%-22s %-22s %10s %10s %8s\n' "$(basename "$source_image")" "guestfish -i peak MiB" "$b_theirs" "$(mean "${theirs[@]}")" "1.00"
  if [ "$source_image" = "$debian" ]; then
    declare -a customized=()
    for ((r = 0; r < rounds; r++)); do
      rm -rf "$scratch"/*
      qemu-img create -q -f qcow2 -b "$debian" -F vmdk "$scratch/overlay.qcow2"
      customized+=("$(peak_mib virt-customize -a "$scratch/overlay.qcow2" "${customize_less[@]}")")
    done
    printf '%-22s %-22s %10s %10s %8s\n' "$(basename "$source_image")" "virt-customize peak MiB" "$(best "${customized[@]}")" \
      "$(mean "${customized[@]}")" "$(echo "scale=2; $(best "${ours[@]}") / $(best "${customized[@]}")" | bc) (vmfix/it)"
  fi
fi
