#!/usr/bin/env bash
# Builds the Debian package: build/package/vmfix_VERSION_amd64.deb, with /usr/bin/vmfix, the man
# page vmfix(1), the bash completion and the README; Depends from dpkg-shlibdeps and
# packaging/CMakeLists.txt. Install it with `apt install ./build/package/vmfix_*.deb`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh build
./scripts/build.sh vmfix vmfix_man
(cd build && cpack -G DEB -B "$PWD/package" >/dev/null)
ls build/package/vmfix_*_amd64.deb
