// vmfix aws-import with the real aws CLI (Debian's awscli) against a local stand-in for S3 and
// EC2 (fake_aws.py) that records every call: the uploaded bytes, the ImportImage parameters, the
// polling, a failed task, a task AWS does not know, the snapshot route and a bad document; and
// with a stand-in aws program, answers EC2 would not give.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/files.h"
#include "support/process.h"
#include "support/unique_fd.h"
#include "tests/test_support.h"

namespace vmfix::test {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kAwsCli = "/usr/bin/aws";

// fake_aws.py on a free port, stopped on destruction.
class FakeAws {
 public:
  explicit FakeAws(bool fail) : dir_("vmfix-fake-aws") {
    const UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    std::vector<std::string> argv{"python3", std::string(VMFIX_SOURCE_DIR) + "/tests/integration/fake_aws.py",
                                  dir_.path().string()};
    if (fail) argv.push_back("--fail");
    pid_ = spawn_child(argv, null.get(), null.get());
    for (int i = 0; i < 100 && !fs::exists(dir_.path() / "port"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    port_ = read_host_file(dir_.path() / "port");
  }
  ~FakeAws() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  FakeAws(const FakeAws&) = delete;
  FakeAws& operator=(const FakeAws&) = delete;

  std::vector<std::string> environment() const {
    return {"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY=secret",
            "AWS_CONFIG_FILE=/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
            std::string("VMFIX_AWS_CLI=") + kAwsCli,
            "VMFIX_AWS_ARGS=--endpoint-url http://127.0.0.1:" + port_ + " --region us-east-1"};
  }
  std::vector<json> calls() const {
    std::vector<json> calls;
    std::ifstream log(dir_.path() / "calls.jsonl");
    for (std::string line; std::getline(log, line);) calls.push_back(json::parse(line));
    return calls;
  }
  std::vector<json> calls(const std::string& name) const {
    std::vector<json> matching;
    for (const json& call : calls())
      if (call["call"] == name) matching.push_back(call);
    return matching;
  }
  fs::path object(const std::string& bucket_key) const { return dir_.path() / "objects" / bucket_key; }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::string port_;
};

json image_document(const fs::path& disk) {
  return {{"schema", "vmfix.aws-import/1"},
          {"route", "import-image"},
          {"reasons", json::array()},
          {"problems", json::array()},
          {"upload", {{{"file", disk.string()}, {"url", "s3://my-bucket/imports/disk.vmdk"}}}},
          {"import_image",
           {{"DiskContainers",
             {{{"Format", "VMDK"}, {"UserBucket", {{"S3Bucket", "my-bucket"}, {"S3Key", "imports/disk.vmdk"}}}}}},
            {"BootMode", "uefi"},
            {"Platform", "Linux"},
            {"Architecture", "x86_64"},
            {"LicenseType", "BYOL"},
            {"RoleName", "vmimport"}}}};
}

class AwsImport : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kAwsCli)) GTEST_SKIP() << kAwsCli << " absent (Debian's awscli)";
    disk_ = scratch_.path() / "disk.vmdk";
    write_file(disk_, random_bytes(9 << 20, 7));  // over the CLI's 8 MiB multipart threshold
  }
  fs::path write_document(const json& document) {
    const fs::path path = scratch_.path() / "job.json";
    write_file(path, document.dump(2));
    return path;
  }
  TempDir scratch_{"vmfix-aws-import-it"};
  fs::path disk_;
};

TEST_F(AwsImport, UploadsImportsAndPollsUntilCompleted) {
  FakeAws aws(false);
  const CliResult result =
      run_vmfix({"aws-import", write_document(image_document(disk_)).string(), "--poll", "1"}, aws.environment());
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out, "ami-0c0ffee\n");
  EXPECT_EQ(read_host_file(aws.object("my-bucket/imports/disk.vmdk")), read_host_file(disk_)) << "the uploaded bytes";
  EXPECT_EQ(aws.calls("CompleteMultipartUpload").size(), 1u) << "a multipart upload";
  const auto imports = aws.calls("ImportImage");
  ASSERT_EQ(imports.size(), 1u);
  const json& params = imports[0]["params"];
  EXPECT_EQ(params["DiskContainer.1.Format"], "VMDK");
  EXPECT_EQ(params["DiskContainer.1.UserBucket.S3Bucket"], "my-bucket");
  EXPECT_EQ(params["DiskContainer.1.UserBucket.S3Key"], "imports/disk.vmdk");
  EXPECT_EQ(params["BootMode"], "uefi");
  EXPECT_EQ(params["LicenseType"], "BYOL");
  EXPECT_EQ(params["RoleName"], "vmimport");
  EXPECT_EQ(aws.calls("DescribeImportImageTasks").size(), 2u) << "polled until completed";
  EXPECT_NE(result.err.find("import-ami-0001: active 30% converting"), std::string::npos) << result.err;
}

TEST_F(AwsImport, AFailedTaskSaysWhyAndWhichRulePredictsIt) {
  FakeAws aws(true);
  const CliResult result =
      run_vmfix({"aws-import", write_document(image_document(disk_)).string(), "--poll", "1"}, aws.environment());
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find("the import failed: ClientError: Unsupported kernel version"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("linux-kernel-supported"), std::string::npos) << result.err;

  const CliResult unknown = run_vmfix(
      {"aws-import", write_document(image_document(disk_)).string(), "--task", "ami-nonsense"}, aws.environment());
  EXPECT_EQ(unknown.exit_status, 65) << unknown.err;
  EXPECT_NE(unknown.err.find("does not know"), std::string::npos) << unknown.err;
}

TEST_F(AwsImport, SnapshotRouteRegistersTheImageOverItsSnapshots) {
  FakeAws aws(false);
  json document = image_document(disk_);
  document.erase("import_image");
  document["route"] = "import-snapshot";
  document["import_snapshot"] = {
      {{"DiskContainer",
        {{"Format", "VMDK"}, {"UserBucket", {{"S3Bucket", "my-bucket"}, {"S3Key", "imports/disk.vmdk"}}}}},
       {"RoleName", "vmimport"}}};
  document["register_image"] = {
      {"Name", "vmfix-disk"},
      {"Architecture", "x86_64"},
      {"BootMode", "legacy-bios"},
      {"RootDeviceName", "/dev/xvda"},
      {"BlockDeviceMappings", {{{"DeviceName", "/dev/xvda"}, {"Ebs", {{"SnapshotId", "{{snapshot-id:0}}"}}}}}},
      {"VirtualizationType", "hvm"}};
  const CliResult result =
      run_vmfix({"aws-import", write_document(document).string(), "--poll", "1"}, aws.environment());
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out, "ami-0feed\n");
  const auto registered = aws.calls("RegisterImage");
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0]["params"]["BlockDeviceMapping.1.Ebs.SnapshotId"], "snap-0001");
  EXPECT_EQ(registered[0]["params"]["RootDeviceName"], "/dev/xvda");
}

// A stand-in aws program (VMFIX_AWS_CLI) answering every ec2 call with `answers` (a shell case
// body on the ec2 command), and logging each call to calls.log.
fs::path stand_in_aws(const fs::path& dir, const std::string& answers) {
  const fs::path cli = dir / "aws";
  write_file(cli, "#!/bin/sh\necho \"$@\" >>" + (dir / "calls.log").string() +
                      "\n[ \"$1\" = s3 ] && exit 0\ncase \"$2\" in\n" + answers + "\nesac\n");
  fs::permissions(cli, fs::perms::owner_all);
  return cli;
}

// An answer EC2 would not give (an --endpoint-url's) is said to be one, exit 70, instead of the
// JSON library's type_error as an internal error.
TEST_F(AwsImport, AnAnswerNotShapedAsEc2sIsSaidToBeOne) {
  const fs::path cli = stand_in_aws(scratch_.path(), R"(*) echo '{"ImportImageTasks": [{"Status": 5}]}' ;;)");
  const CliResult result =
      run_vmfix({"aws-import", write_document(image_document(disk_)).string(), "--task", "import-ami-0001"},
                {"VMFIX_AWS_CLI=" + cli.string()});
  EXPECT_EQ(result.exit_status, 70) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << "one line: " << result.err;
  EXPECT_NE(result.err.find("an answer not shaped as EC2's"), std::string::npos) << result.err;
}

// A snapshot id that is none is refused before register-image. One holding its own placeholder
// once made the text replacement loop for ever; one holding quotes could add request members.
TEST_F(AwsImport, ASnapshotIdThatIsNoneIsRefusedBeforeRegistering) {
  json document = image_document(disk_);
  document.erase("import_image");
  document["route"] = "import-snapshot";
  document["import_snapshot"] = {{{"DiskContainer", {{"Format", "VMDK"}}}}};
  document["register_image"] = {{"BlockDeviceMappings", {{{"Ebs", {{"SnapshotId", "{{snapshot-id:0}}"}}}}}}};
  const fs::path cli = stand_in_aws(scratch_.path(), R"(import-snapshot) echo '{"ImportTaskId": "import-snap-1"}' ;;
describe-import-snapshot-tasks) echo '{"ImportSnapshotTasks": [{"SnapshotTaskDetail":
  {"Status": "completed", "SnapshotId": "x{{snapshot-id:0}}"}}]}' ;;
*) echo '{"ImageId": "ami-1"}' ;;)");
  const CliResult result =
      run_vmfix({"aws-import", write_document(document).string(), "--poll", "1"}, {"VMFIX_AWS_CLI=" + cli.string()});
  EXPECT_EQ(result.exit_status, 70) << result.err;
  EXPECT_NE(result.err.find("no snapshot id but 'x{{snapshot-id:0}}'"), std::string::npos) << result.err;
  EXPECT_EQ(read_host_file(scratch_.path() / "calls.log").find("register-image"), std::string::npos);
}

TEST_F(AwsImport, BadDocumentsAreRefusedBeforeAnythingIsUploaded) {
  FakeAws aws(false);
  json other = image_document(disk_);
  other["schema"] = "vmfix.report/1";
  json placeholder = image_document(disk_);
  placeholder["upload"][0]["url"] = "s3://{{s3-bucket}}/disk.vmdk";
  json not_s3 = image_document(disk_);
  not_s3["upload"][0]["url"] = "https://my-bucket.s3.amazonaws.com/disk.vmdk";
  json problems = image_document(disk_);
  problems["problems"] = {"the verdict is blocked, not ready"};
  json numbers = image_document(disk_);  // members of another type (once the JSON library's type_error)
  numbers["upload"] = json::array({5});
  json route = image_document(disk_);
  route["route"] = 7;
  for (const json& document : {other, placeholder, not_s3, problems, numbers, route}) {
    const CliResult result = run_vmfix({"aws-import", write_document(document).string()}, aws.environment());
    EXPECT_EQ(result.exit_status, 65) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << "one line: " << result.err;
  }
  write_file(scratch_.path() / "job.json", "{not json");
  EXPECT_EQ(run_vmfix({"aws-import", (scratch_.path() / "job.json").string()}, aws.environment()).exit_status, 65);
  // Nested 100,000 deep: refused as it is read (printing it once overflowed the stack).
  std::string deep = image_document(disk_).dump();
  deep.insert(deep.size() - 1, R"(, "register_image": )" + std::string(100000, '[') + std::string(100000, ']'));
  write_file(scratch_.path() / "deep.json", deep);
  const CliResult nested = run_vmfix({"aws-import", (scratch_.path() / "deep.json").string()}, aws.environment());
  EXPECT_EQ(nested.exit_status, 65) << nested.err;
  EXPECT_NE(nested.err.find("nested more than 100 levels deep"), std::string::npos) << nested.err;
  EXPECT_EQ(run_vmfix({"aws-import"}, aws.environment()).exit_status, 64);
  EXPECT_EQ(run_vmfix({"aws-import", "job.json", "--poll", "0"}, aws.environment()).exit_status, 64);
  EXPECT_TRUE(aws.calls().empty()) << "nothing reached AWS";
}

}  // namespace
}  // namespace vmfix::test
