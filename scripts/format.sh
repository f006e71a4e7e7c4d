#!/usr/bin/env bash
# clang-format (the project's .clang-format) over every C++ file in the repository (not the
# configure templates, *.cpp.in, whose @VARIABLES@ it would break).
#   scripts/format.sh           rewrites the files in place
#   scripts/format.sh --check   lists the files that differ and fails, changing nothing
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [ "${1:-}" = --check ]; then
  bad=()
  for f in "${files[@]}"; do clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f"); done
  if ((${#bad[@]})); then
    printf 'not clang-format clean (scripts/format.sh fixes): %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files clang-format clean"
else
  clang-format -i "${files[@]}"
fi
