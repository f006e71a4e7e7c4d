#include "tests/test_support.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <random>
#include <thread>

#include "support/error.h"
#include "support/files.h"

extern char** environ;

namespace vmfix::test {

std::optional<std::filesystem::path> corpus_dir() {
  std::filesystem::path dir = VMFIX_CORPUS_DIR;
  if (std::filesystem::is_regular_file(dir / "INVENTORY.md")) return dir;
  return std::nullopt;
}

VmfixProcess::VmfixProcess(const std::vector<std::string>& args, const std::vector<std::string>& environment)
    : scratch_(std::make_unique<TempDir>("vmfix-cli-test")) {
  const std::string out_path = (scratch_->path() / "out").string(), err_path = (scratch_->path() / "err").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv{VMFIX_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (auto& arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);
  std::vector<std::string> env;
  // The given variables replace the inherited ones of the same name (getenv takes the first).
  auto given = [&](std::string_view entry) {
    const std::string_view name = entry.substr(0, entry.find('='));
    return std::any_of(environment.begin(), environment.end(), [&](const std::string& e) {
      return e.compare(0, name.size() + 1, std::string(name) + "=") == 0;
    });
  };
  for (char** e = environ; *e; ++e)
    if (!given(*e)) env.emplace_back(*e);
  env.insert(env.end(), environment.begin(), environment.end());
  std::vector<char*> c_env;
  for (auto& e : env) c_env.push_back(e.data());
  c_env.push_back(nullptr);
  int error = ::posix_spawn(&pid_, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw Error(fmt::format("cannot run vmfix: {}", error));
}

VmfixProcess::~VmfixProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

CliResult VmfixProcess::wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  CliResult result;
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_host_file(scratch_->path() / "out");
  result.err = read_host_file(scratch_->path() / "err");
  return result;
}

std::string VmfixProcess::err_so_far() const { return read_host_file(scratch_->path() / "err"); }

CliResult run_vmfix(const std::vector<std::string>& args, const std::vector<std::string>& environment) {
  return VmfixProcess(args, environment).wait();
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!file) throw Error(fmt::format("cannot write {}", path.string()));
}

std::string random_bytes(size_t count, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(count, '\0');
  for (char& c : bytes) c = static_cast<char>(generator() & 0xff);
  return bytes;
}

// An OVF for the disks named, each on the SCSI controller in order, plus a CD-ROM and a NIC.
std::string ovf_descriptor(const std::vector<std::pair<std::string, uint64_t>>& disks, const std::string& extra) {
  std::string references, disk_section, items;
  for (size_t i = 0; i < disks.size(); ++i) {
    references +=
        fmt::format("<File ovf:href=\"{}\" ovf:id=\"file{}\" ovf:size=\"{}\"/>", disks[i].first, i, disks[i].second);
    disk_section += fmt::format(
        "<Disk ovf:capacity=\"{}\" ovf:capacityAllocationUnits=\"byte * 2^20\" ovf:diskId=\"vmdisk{}\" "
        "ovf:fileRef=\"file{}\" "
        "ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\"/>",
        4, i, i);
    items += fmt::format(
        "<Item><rasd:AddressOnParent>{}</rasd:AddressOnParent><rasd:HostResource>ovf:/disk/vmdisk{}</rasd:HostResource>"
        "<rasd:InstanceID>{}</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></"
        "Item>",
        i, i, 10 + i);
  }
  return fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
  xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References>{}</References>
  <DiskSection><Info>disks</Info>{}</DiskSection>
  <VirtualSystem ovf:id="test-vm">
    <OperatingSystemSection ovf:id="80" vmw:osType="centos7_64Guest"><Info>os</Info></OperatingSystemSection>
    <VirtualHardwareSection>
      <Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      {}
      <Item><rasd:InstanceID>20</rasd:InstanceID><rasd:ResourceType>15</rasd:ResourceType></Item>
      <Item><rasd:InstanceID>21</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="bios"/>{}
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
)",
                     references, disk_section, items, extra);
}

}  // namespace vmfix::test
