#!/usr/bin/env bash
# The .deb as scripts/package.sh builds it, unpacked into a fresh root (dpkg -x): what it depends
# on, that the installed binary runs on its own, that `man -l` renders its page, and that its bash
# completion registers and completes fixer ids from the installed binary.
#   tests/install/install_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d /var/tmp/vmfix-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "install test: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/package" >/dev/null)
deb=$(ls "$work"/package/vmfix_*_amd64.deb)
version=$(dpkg-deb --field "$deb" Version)
depends=$(dpkg-deb --field "$deb" Depends)
for needed in libguestfs0 libhivex0 qemu-utils supermin linux-image-amd64 libguestfs-xfs libfmt libboost-program-options; do
  grep -q "$needed" <<<"$depends" || fail "Depends lacks $needed: $depends"
done

root=$work/root
dpkg -x "$deb" "$root"
vmfix=$root/usr/bin/vmfix
[ -x "$vmfix" ] || fail "no /usr/bin/vmfix in the package"
# Outputs are captured before grep reads them: under pipefail, `grep -q` leaving early would kill
# the writer with SIGPIPE and fail the pipeline at random.
sections=$(readelf -S "$vmfix")
grep -q '\.debug_info' <<<"$sections" && fail "the installed binary is not stripped"
[ "$("$vmfix" --version)" = "vmfix $version" ] || fail "--version says $("$vmfix" --version), the package $version"
"$vmfix" --list-fixers --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
assert doc["schema"] == "vmfix.fixers/1" and len(doc["fixers"]) >= 10, doc' || fail "--list-fixers --json"
rules=$("$vmfix" --list-rules)
grep -q '^os-recognized ' <<<"$rules" || fail "--list-rules has no os-recognized"
status=0
"$vmfix" --check "$work/no-such-image.vmdk" 2>"$work/err" || status=$?
[ "$status" = 65 ] || fail "a missing image exited $status, not 65: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" = 1 ] || fail "a missing image is not one line: $(cat "$work/err")"

page=$root/usr/share/man/man1/vmfix.1
[ -f "$page" ] || fail "no man page"
MANWIDTH=100 man -P cat -l "$page" >"$work/man.txt" 2>"$work/man.err" || fail "man -l: $(cat "$work/man.err")"
for expected in "vmfix - make a powered-off VM image" "--all" "--dry-run" "EXIT STATUS" "VMFIX_ACCEL" "EXAMPLES"; do
  grep -qF -- "$expected" "$work/man.txt" || fail "the rendered man page lacks '$expected'"
done

completion=$root/usr/share/bash-completion/completions/vmfix
[ -f "$completion" ] || fail "no bash completion"
PATH=$root/usr/bin:$PATH bash -c '
  source "$1"
  complete -p vmfix | grep -q -- "-F _vmfix" || exit 1
  COMP_WORDS=(vmfix --fix rtc-utc,s); COMP_CWORD=2; _vmfix
  [[ " ${COMPREPLY[*]} " == *" rtc-utc,san-policy "* ]] || { echo "fixer ids: ${COMPREPLY[*]}"; exit 1; }
  COMP_WORDS=(vmfix --output-format vh); COMP_CWORD=2; _vmfix
  [[ "${COMPREPLY[*]}" == "vhd vhd-fixed vhdx" ]] || { echo "formats: ${COMPREPLY[*]}"; exit 1; }
  COMP_WORDS=(vmfix --al); COMP_CWORD=1; _vmfix
  [[ " ${COMPREPLY[*]} " == *" --all "* ]] || { echo "modes: ${COMPREPLY[*]}"; exit 1; }
' _ "$completion" || fail "bash completion"
echo "install test: $deb ok (Depends: $depends)"
