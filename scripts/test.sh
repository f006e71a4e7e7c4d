#!/usr/bin/env bash
# Installs what vmfix needs, builds it and runs the whole test suite: unit tests (no appliance,
# seconds) and integration tests (real appliance launches, a few minutes).
#   scripts/test.sh -L unit           only the unit tests
#   scripts/test.sh -L integration    only the integration tests
#   scripts/test.sh -L slow           the slow acceptance test (debootstrap, boots the result; ~15 min)
# With no arguments everything but the slow label runs, then the fuzzers (scripts/fuzz.sh, ~2 min).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
full=0
if [ $# -eq 0 ]; then set -- -LE slow; full=1; fi
ctest --output-on-failure --parallel 2 --timeout 1500 "$@"
# The whole run also fuzzes our own parsers for a bounded time.
if [ "$full" = 1 ]; then cd .. && ./scripts/fuzz.sh 20; fi
