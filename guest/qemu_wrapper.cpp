#include "guest/qemu_wrapper.h"

#include <fmt/core.h>
#include <sys/statvfs.h>

#include "support/error.h"
#include "support/files.h"
#include "support/text.h"

namespace vmfix::guest {

namespace fs = std::filesystem;

std::string qemu_wrapper_script(const std::string& qemu, int cache_mib) {
  // Each argument is shifted off the front and its replacement appended, so "$@" ends up as the
  // new command line in order. set -f: the -machine value is split on commas unquoted.
  return fmt::format(R"(#!/bin/sh
# Written by vmfix: runs qemu with the command line libguestfs made, but for the accelerators,
# moved from -machine accel=A:B into -accel A -accel B, TCG's with a {0} MiB translation cache.
set -f
qemu='{1}'
count=$#
machine_next=
while [ "$count" -gt 0 ]; do
  arg=$1
  shift
  count=$((count - 1))
  if [ -n "$machine_next" ]; then
    machine_next=
    rest=
    accels=
    IFS=,
    for option in $arg; do
      case $option in
        accel=*) accels=${{option#accel=}} ;;
        *) rest=${{rest:+$rest,}}$option ;;
      esac
    done
    unset IFS
    if [ -n "$rest" ]; then set -- "$@" -machine "$rest"; fi
    IFS=:
    for accel in $accels; do
      case $accel in
        tcg) set -- "$@" -accel "tcg,tb-size={0}" ;;
        *) set -- "$@" -accel "$accel" ;;
      esac
    done
    unset IFS
    continue
  fi
  case $arg in
    -machine | -M) machine_next=1 ;;
    *) set -- "$@" "$arg" ;;
  esac
done
if [ -n "$machine_next" ]; then set -- "$@" -machine; fi
exec "$qemu" "$@"
)",
                     cache_mib, qemu);
}

std::optional<fs::path> install_qemu_wrapper(const fs::path& directory, const std::string& qemu, int cache_mib) {
  if (qemu.empty() || qemu.find_first_of("'\n") != std::string::npos) return std::nullopt;
  const std::string script = qemu_wrapper_script(qemu, cache_mib);
  const fs::path path = directory / fmt::format("qemu-wrapper-{:016x}", fnv1a64(script));
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) throw Error(fmt::format("{}: {}", directory.string(), error.message()));
  // A directory on a noexec mount (a hardened /var/tmp) would leave qemu unstartable.
  struct statvfs mount {};
  if (::statvfs(directory.c_str(), &mount) == 0 && (mount.f_flag & ST_NOEXEC)) return std::nullopt;
  if (!fs::is_regular_file(path, error)) write_host_file_atomic(path, script, 0755);
  return path;
}

}  // namespace vmfix::guest
