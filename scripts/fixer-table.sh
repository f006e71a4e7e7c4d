#!/usr/bin/env bash
# Writes the README's fixer table from the fixers' own documentation (each fixer's
# documentation() in fixers/*.cpp): builds, lets the unit test render it, and splices it in.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target unit_tests >/dev/null
build/tests/unit/unit_tests --gtest_filter=FixerTable.TheReadmeShowsWhatTheFixersSay >/dev/null || true
python3 - build/fixer-table.md README.md <<'PY'
import sys
table, readme_path = open(sys.argv[1]).read(), sys.argv[2]
readme = open(readme_path).read()
start = readme.index("| id | what it checks | what it changes |")
end = readme.index("\n\n", start) + 1
open(readme_path, "w").write(readme[:start] + table + readme[end:])
PY
echo "README.md: fixer table written"
