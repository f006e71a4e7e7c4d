#!/usr/bin/env bash
# vmfix batch on a real Slurm cluster: munge, slurmctld and slurmd (Debian's slurm-wlm), configured
# here in a private directory with their own ports, on this one machine. A 2-task array job runs
# `vmfix batch --check` over a small library (each task takes its shard from SLURM_ARRAY_TASK_ID
# and SLURM_ARRAY_TASK_COUNT), then `vmfix batch --merge` combines the shard summaries and the
# merged summary must hold every image exactly once, with the corrupt one failed.
#   tests/cluster/slurm.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:-build}")
vmfix="$build/vmfix"
work=$(mktemp -d /var/tmp/vmfix-slurm-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${keep:-0}" = 1 ]; then echo "slurm test: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  echo "slurm test: $*" >&2
  for log in "$work"/*.log "$work"/out/logs/*.log; do [ -f "$log" ] && { echo "== $log" >&2; tail -20 "$log" >&2; }; done
  keep=1
  exit 1
}

# The library: a Windows guest, a Linux guest, a VMDK cut short.
mapfile -t images < <("$build/vmfix-fixtures" build "$build/fixtures" ubuntu1804-vmware win2012r2-vmware)
mkdir -p "$work/library"
cp --sparse=always "${images[0]}" "$work/library/ubuntu.vmdk"
cp --sparse=always "${images[1]}" "$work/library/windows.vhd"
head -c $(($(stat -c %s "${images[0]}") / 2)) "${images[0]}" >"$work/library/truncated.vmdk"

# munge, with its own key and socket.
mkdir -p "$work/munge" && chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munge/seed" --foreground \
  >>"$work/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$work/munge/munge.socket" ] || fail "munged did not start"

# Slurm: one node (this machine), one partition, no cgroups, no accounting.
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/spool" "$work/state"
cat >"$work/slurm.conf" <<CONF
ClusterName=vmfix-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=vmfix Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld -D -i >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D >"$work/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  state=$(sinfo -h -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || fail "the node did not come up (sinfo: '${state:-nothing}')"

# The array job: two tasks, one CPU each, both at once.
job=$(sbatch --parsable --array=0-1 --cpus-per-task=1 --output="$work/task-%a.log" --chdir="$work" \
  --export=ALL --wrap "'$vmfix' batch --check -j 1 '$work/library' -o '$work/out'; echo \$? >'$work/exit-'\$SLURM_ARRAY_TASK_ID")
echo "slurm test: array job $job submitted"
for _ in $(seq 1200); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h -j "$job")" ] || fail "the array job did not finish in 10 minutes"
# Each task exits 65 (its shard holds the corrupt image) or 0/1 (verdicts); a crash is neither.
for task in 0 1; do
  [ -f "$work/out/summary-shard-$task-of-2.json" ] || fail "task $task wrote no shard summary"
  code=$(cat "$work/exit-$task" 2>/dev/null || echo none)
  case "$code" in 0 | 1 | 65) ;; *) fail "task $task exited $code" ;; esac
done

"$vmfix" batch --merge "$work/out" --json >"$work/merged.json" || status=$?
[ "${status:-0}" = 65 ] || fail "merge exit ${status:-0}, expected 65 (one corrupt image)"
python3 - "$work/merged.json" <<'PY' || fail "the merged summary is wrong"
import json, sys
summary = json.load(open(sys.argv[1]))
images = {i["image"]: i for i in summary["images"]}
assert sorted(images) == ["truncated.vmdk", "ubuntu.vmdk", "windows.vhd"], images.keys()
assert summary["shard"]["merged"] == [0, 1] and summary["shard"]["missing"] == [], summary["shard"]
assert summary["totals"] == {**summary["totals"], "images": 3, "done": 2, "failed": 1}, summary["totals"]
assert images["truncated.vmdk"]["state"] == "failed" and "truncated" in images["truncated.vmdk"]["error"]
for name in ("ubuntu.vmdk", "windows.vhd"):
    assert images[name]["state"] == "done" and images[name]["verdict"] in ("ready", "fixable", "blocked"), images[name]
print("slurm test: merged summary of", len(images), "images from 2 array tasks:",
      ", ".join(f'{k}: {v["state"]} {v["verdict"]}' for k, v in sorted(images.items())))
PY
echo "slurm test: passed"
