#!/usr/bin/env bash
# Installs what vmfix needs, builds it and runs the whole test suite: unit tests (no appliance,
# seconds) and integration tests (real appliance launches, a few minutes).
#   scripts/test.sh -L unit           only the unit tests
#   scripts/test.sh -L integration    only the integration tests
#   scripts/test.sh -L slow           the slow acceptance test (debootstrap, boots the result; ~15 min)
# With no arguments: the style checks first (clang-format, and functions of at most 80 lines
# outside tests, fuzz targets and fixture data), then everything but the slow label, then the
# fuzzers (scripts/fuzz.sh, 15 s per target, ~4 min).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
full=0
if [ $# -eq 0 ]; then full=1; fi
if [ "$full" = 1 ]; then
  ./scripts/format.sh --check
  git ls-files '*.cpp' '*.h' | grep -v -E '^(tests|fuzz|fixtures)/' | xargs python3 scripts/function-lengths.py --check --limit 80
fi
./scripts/build.sh
cd build
if [ "$full" = 1 ]; then set -- -LE slow; fi
ctest --output-on-failure --parallel 2 --timeout 1500 "$@"
# The whole run also fuzzes our own parsers for a bounded time.
if [ "$full" = 1 ]; then cd .. && ./scripts/fuzz.sh 15; fi
