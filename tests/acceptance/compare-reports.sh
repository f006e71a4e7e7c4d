#!/usr/bin/env bash
# Shows that two vmfix binaries behave the same: `--check` and `--all` of every fixture image
# (build/fixtures), their JSON reports (--report) compared field by field after dropping what
# differs between any two runs (the version string), their text and exit codes byte for byte.
# Used to prove a refactoring changes nothing.
#   tests/acceptance/compare-reports.sh OLD_VMFIX NEW_VMFIX [IMAGE...]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
old=$1 new=$2; shift 2
[ $# -gt 0 ] || set -- "$here"/build/fixtures/*-????????????????.*
work=$(mktemp -d /var/tmp/vmfix-compare-XXXXXX)
trap 'rm -rf "$work"' EXIT
normalise() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r.pop("vmfix_version",None); print(json.dumps(r,indent=1,sort_keys=False))' "$1"; }
failed=0
for image in "$@"; do
  name=$(basename "$image")
  for mode in check all; do
    for which in old new; do
      binary=$old; [ $which = new ] && binary=$new
      args=(--$mode --report "$work/$which.json"); [ $mode = all ] && args+=(-o "$work/out/$name.vmdk")
      mkdir -p "$work/out"; rm -rf "$work/out"/*
      code=0; "$binary" "${args[@]}" "$image" > "$work/$which.txt" 2> "$work/$which.err" || code=$?
      echo "$code" > "$work/$which.code"
    done
    if cmp -s "$work/old.code" "$work/new.code" && diff <(normalise "$work/old.json") <(normalise "$work/new.json") > "$work/diff" &&
       diff "$work/old.txt" "$work/new.txt" >> "$work/diff"; then
      echo "same      $mode $name (exit $(cat "$work/new.code"))"
    else
      echo "DIFFERENT $mode $name (exit $(cat "$work/old.code") vs $(cat "$work/new.code"))"; head -40 "$work/diff"; failed=1
    fi
  done
done
exit $failed
