#include "tests/integration/environment.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "fixtures/fixture.h"
#include "support/files.h"

namespace vmfix::test {

namespace {

std::map<std::string, std::filesystem::path> images;
std::unique_ptr<TempDir> cache;

class FixtureEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    cache = std::make_unique<TempDir>("vmfix-integration-cache");
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

}  // namespace vmfix::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new vmfix::test::FixtureEnvironment);
  return RUN_ALL_TESTS();
}
