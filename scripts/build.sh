#!/usr/bin/env bash
# Configures and builds vmfix in build/ (warnings are errors). Used by demo.sh, package.sh and
# test.sh.
#   scripts/build.sh            everything, the tests included
#   scripts/build.sh TARGET...  only those targets, without the tests (no GoogleTest needed)
set -euo pipefail
cd "$(dirname "$0")/.."
testing=ON
if [ $# -gt 0 ]; then testing=OFF; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMFIX_WERROR=ON -DBUILD_TESTING=$testing >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build build --parallel "$(nproc)" "${targets[@]}"
