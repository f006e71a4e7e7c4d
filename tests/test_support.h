#pragma once
// Helpers shared by the unit and integration tests.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.h"

namespace vmfix {
class TempDir;
}

namespace vmfix::test {

// The third-party corpus (../shared/corpus), or nullopt: callers GTEST_SKIP() then.
std::optional<std::filesystem::path> corpus_dir();
#define VMFIX_REQUIRE_CORPUS(var)                                    \
  auto var##_optional = ::vmfix::test::corpus_dir();                 \
  if (!var##_optional) GTEST_SKIP() << "../shared/corpus is absent"; \
  const std::filesystem::path var = *var##_optional

// Runs vmfix with `args`; stdout and stderr separated.
struct CliResult {
  int exit_status = 0;
  std::string out;
  std::string err;
};
CliResult run_vmfix(const std::vector<std::string>& args, const std::vector<std::string>& environment = {});

// vmfix running in the background, for tests that interrupt it. Killed on destruction.
class VmfixProcess {
 public:
  VmfixProcess(const std::vector<std::string>& args, const std::vector<std::string>& environment = {});
  ~VmfixProcess();
  VmfixProcess(const VmfixProcess&) = delete;
  VmfixProcess& operator=(const VmfixProcess&) = delete;
  pid_t pid() const { return pid_; }
  std::string err_so_far() const;
  CliResult wait();

 private:
  std::unique_ptr<TempDir> scratch_;
  pid_t pid_ = -1;
};

void write_file(const std::filesystem::path& path, const std::string& content);
std::string random_bytes(size_t count, unsigned seed);

// An OVF 1.x descriptor (VMware style) for the disk files named (href, size), each on one SCSI
// controller in order, with a CD-ROM and a NIC; `extra` goes into the hardware section.
std::string ovf_descriptor(const std::vector<std::pair<std::string, uint64_t>>& disks, const std::string& extra = "");

}  // namespace vmfix::test
