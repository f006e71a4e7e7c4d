#pragma once
// Shared state of the integration tests: the fixture images (built once) and the launch-policy
// cache directory every vmfix run of this process uses.
#include <filesystem>
#include <string>

namespace vmfix::test {

std::filesystem::path fixture_image(const std::string& name);
// "VMFIX_CACHE_DIR=..." for run_vmfix's environment.
std::string cache_environment();
std::filesystem::path cache_dir();

}  // namespace vmfix::test
