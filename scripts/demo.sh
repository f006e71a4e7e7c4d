#!/usr/bin/env bash
# Installs what vmfix needs, builds it, builds the sample image (a CentOS 7 guest as VMware
# Workstation exports it: monolithicSparse VMDK, static IP bound to a MAC, tarball VMware Tools)
# and runs vmfix --all on it, writing build/demo/centos7-vmfix.vmdk. The first run also builds
# libguestfs's appliance (a minute or two).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh build  # no test tools: the demo builds only what it runs
./scripts/build.sh vmfix vmfix-fixtures
sample=$(./build/vmfix-fixtures build build/fixtures centos7-vmware)
mkdir -p build/demo
echo "+ vmfix --all -o build/demo/centos7-vmfix.vmdk $sample"
./build/vmfix --all -o build/demo/centos7-vmfix.vmdk "$sample"
