#!/usr/bin/env bash
# Configures and builds vmfix in build/ (warnings are errors). Used by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMFIX_WERROR=ON >/dev/null
cmake --build build --parallel "$(nproc)"
