#include "tests/integration/environment.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "fixtures/fixture.h"
#include "support/files.h"
#include "support/process.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::filesystem::path> images;
std::unique_ptr<TempDir> cache;

class FixtureEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    cache = std::make_unique<TempDir>("vmfix-integration-cache");
    // Every run and shard shares the user's appliance (an uncompressed kernel and supermin's
    // appliance built with it, about 700 MB) instead of building its own.
    const fs::path appliance = user_cache_dir() / "appliance";
    fs::create_directories(appliance);
    fs::create_directory_symlink(appliance, cache->path() / "appliance");
    // The builder's own launches use the same policy cache as the vmfix runs under test.
    ::setenv("VMFIX_CACHE_DIR", cache->path().c_str(), 1);
    guest::SessionOptions options;
    options.on_note = [](std::string_view message) { fmt::print(stderr, "fixtures: {}\n", message); };
    const auto& specs = fixtures::catalog();
    auto paths = fixtures::build(specs, VMFIX_FIXTURE_CACHE, options);
    for (size_t i = 0; i < specs.size(); ++i) images[specs[i].name] = paths[i];
    // Start the launch-policy test from a clean slate: forget what the build learned.
    std::filesystem::remove(cache->path() / "accel");
  }
  void TearDown() override { cache.reset(); }
};

}  // namespace

std::filesystem::path fixture_image(const std::string& name) { return images.at(name); }
std::filesystem::path cache_dir() { return cache->path(); }
std::string cache_environment() { return "VMFIX_CACHE_DIR=" + cache->path().string(); }

std::vector<fs::path> partial_dirs(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().starts_with(".vmfix-partial-")) found.push_back(entry.path());
  return found;
}

bool process_left_on(const fs::path& directory) {
  for (int i = 0; i < 30; ++i) {
    if (run_host({"pgrep", "-f", directory.string()}).exit_status != 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return true;
}

std::string sha256(const std::filesystem::path& file) {
  return run_host_checked({"sha256sum", file.string()}).substr(0, 64);
}

// The Windows fixture as vSphere would export it, with a data disk `data` (raw) beside it, a
// CD-ROM, two NICs and an nvram file: `NAME.ovf` and its disks in `dir`.
std::filesystem::path windows_ovf(const std::filesystem::path& dir, const std::string& data_disk) {
  run_host_checked({"qemu-img", "convert", "-q", "-O", "vmdk", "-o", "subformat=streamOptimized",
                    fixture_image("win2012r2-vmware").string(), (dir / "win-disk1.vmdk").string()});
  write_file(dir / "win.nvram", "nvram");
  const std::string extra = R"(
      <Item><rasd:ElementName>Network adapter 2</rasd:ElementName><rasd:InstanceID>22</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:ExtraConfig ovf:required="false" vmw:key="nvram" vmw:value="ovf:/file/nvram"/>)";
  std::string ovf = ovf_descriptor(
      {{"win-disk1.vmdk", fs::file_size(dir / "win-disk1.vmdk")}, {data_disk, fs::file_size(dir / data_disk)}}, extra);
  ovf.replace(ovf.find("</References>"), 0, R"(<File ovf:href="win.nvram" ovf:id="nvram" ovf:size="5"/>)");
  write_file(dir / "win.ovf", ovf);
  return dir / "win.ovf";
}

// A raw data disk: an MBR signature, then `mib` MiB of random bytes (slow to compress).
void random_disk(const std::filesystem::path& path, int mib) {
  run_host_checked({"sh", "-c", fmt::format("head -c {} /dev/urandom > '{}'", mib << 20, path.string())});
  run_host_checked(
      {"sh", "-c",
       fmt::format("printf '\\125\\252' | dd of='{}' bs=1 seek=510 conv=notrunc status=none", path.string())});
}

}  // namespace vmfix::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new vmfix::test::FixtureEnvironment);
  return RUN_ALL_TESTS();
}
