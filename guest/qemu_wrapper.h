#pragma once
// Under software emulation qemu keeps the code it translated in a cache of 1 GiB by default, and
// its resident set grows with every guest program the appliance runs: a bare inspection of the
// Debian 12 image left qemu at 660 MiB, 370 MiB with a 64 MiB cache, in the same time. libguestfs
// has no setting for it and puts the accelerator in `-machine accel=...`, which qemu will not
// combine with `-accel tcg,tb-size=N`. So vmfix runs qemu through a small wrapper script
// (libguestfs's set_hv is made for wrappers) that moves the accelerators out of -machine into
// -accel options, in the same order, the cache size on TCG's.
#include <filesystem>
#include <optional>
#include <string>

namespace vmfix::guest {

// MiB of translated code qemu keeps under software emulation. 128 took a Debian 12 `--all` from
// 749 to 481 MiB at its peak, no slower (64: 417 MiB, no faster).
constexpr int kTranslationCacheMiB = 128;

// The wrapper's text: a POSIX shell script that runs `qemu` with the command line it was given,
// but for `-machine ...,accel=A:B,...`, which becomes `-machine ...` and `-accel A -accel B` (TCG's
// with tb-size=`cache_mib`). `qemu` must not contain a single quote.
std::string qemu_wrapper_script(const std::string& qemu, int cache_mib);

// Writes the wrapper for `qemu` into `directory` (once: its name holds a hash of its text) and
// returns its path. Nothing when `qemu` cannot be named in it or `directory` is on a noexec mount;
// throws when it cannot be written.
std::optional<std::filesystem::path> install_qemu_wrapper(const std::filesystem::path& directory,
                                                          const std::string& qemu, int cache_mib);

}  // namespace vmfix::guest
