#pragma once
// Shared state of the integration tests: the fixture images (built once) and the launch-policy
// cache directory every vmfix run of this process uses.
#include <filesystem>
#include <string>
#include <vector>

namespace vmfix::test {

std::filesystem::path fixture_image(const std::string& name);
// "VMFIX_CACHE_DIR=..." for run_vmfix's environment.
std::string cache_environment();
std::filesystem::path cache_dir();

std::string sha256(const std::filesystem::path& file);
// The private partial-output directories (".vmfix-partial-*") in `dir`.
std::vector<std::filesystem::path> partial_dirs(const std::filesystem::path& dir);
// True when a process still has `directory` on its command line after 15 s.
bool process_left_on(const std::filesystem::path& directory);
// The Windows fixture as vSphere would export it, with a data disk `data_disk` (raw) beside it, a
// CD-ROM, two NICs and an nvram file: `win.ovf` and its disks in `dir`.
std::filesystem::path windows_ovf(const std::filesystem::path& dir, const std::string& data_disk);
// A raw data disk: an MBR signature, then `mib` MiB of random bytes (slow to compress).
void random_disk(const std::filesystem::path& path, int mib);

}  // namespace vmfix::test
