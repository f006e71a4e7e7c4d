// The AWS import document (vmfix.aws-import/1): each request part checked against the EC2
// service model Debian's awscli ships (botocore's ec2 service-2.json), read here, and handed to
// the real aws CLI, which must fail only at connecting, never at validating the parameters.
#include "remediate/aws_import.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "remediate/import_document.h"
#include "rules/profile.h"
#include "support/error.h"
#include "support/files.h"
#include "support/process.h"

namespace vmfix::remediate {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr const char* kServiceModel =
    "/usr/lib/python3/dist-packages/awscli/botocore/data/ec2/2016-11-15/service-2.json";
constexpr const char* kAwsCli = "/usr/bin/aws";

inspect::Facts linux_facts(const std::string& version, const std::string& kernel, const std::string& boot_mode) {
  inspect::Facts facts;
  facts.os_type = "linux";
  facts.distro = "debian";
  facts.major_version = std::atoi(version.c_str());
  facts.product_name = "Debian GNU/Linux " + version;
  facts.arch = "x86_64";
  facts.boot_mode = boot_mode == "uefi" ? bootloader::BootMode::uefi : bootloader::BootMode::bios;
  facts.root_device = "/dev/sda1";
  facts.disks.push_back({"/dev/sda", "disk.img", 8ULL << 30, boot_mode == "uefi" ? "gpt" : "mbr", {}, {}});
  facts.filesystems.push_back({"/dev/sda1", "ext4", "", "", "/", 8ULL << 30, 4ULL << 30, true});
  facts.linux.kernels.push_back({kernel, "/boot/vmlinuz-" + kernel, "/boot/initrd.img-" + kernel, true});
  facts.bootloaders.push_back({"grub2", facts.boot_mode, "/boot/grub/grub.cfg", ""});
  return facts;
}

inspect::Facts windows_facts(const std::string& product, const std::string& type, const std::string& build,
                             const std::string& boot_mode) {
  inspect::Facts facts;
  facts.os_type = "windows";
  facts.product_name = product;
  facts.arch = "x86_64";
  facts.windows.installation_type = type;
  facts.windows.edition_id = type == "Client" ? "Professional" : "ServerDatacenter";
  facts.windows.current_build = build;
  facts.windows.install_language = "0409";
  facts.boot_mode = boot_mode == "uefi" ? bootloader::BootMode::uefi : bootloader::BootMode::bios;
  facts.disks.push_back({"/dev/sda", "disk.vhdx", 60ULL << 30, boot_mode == "uefi" ? "gpt" : "mbr", {}, {}});
  facts.filesystems.push_back({"/dev/sda2", "ntfs", "", "", "/", 60ULL << 30, 20ULL << 30, std::nullopt});
  return facts;
}

// A finished --all: the rules on these facts, the output written as `format` in `files`.
Report written(const inspect::Facts& facts, const std::string& format, std::vector<fs::path> files) {
  Report report;
  report.profile = &rules::load_profile("aws-current");
  report.vm.kind = "disk";
  report.vm.path = "/library/guest.vmdk";
  report.facts = facts;
  report.before = rules::evaluate(
      {*report.profile, report.facts, {"vmdk", "monolithicSparse", format, 1, -1, -1, -1}, nullptr, {}});
  report.after = report.before;
  report.output = image::OutputSpec{files.front(), image::output_format_named(format), files, {}};
  report.written = true;
  return report;
}

ordered_json document(const Report& report, AwsImportOptions options = {"s3://my-bucket/imports/"}) {
  return aws_import_document(report, "{\"report\": true}\n", options);
}

// Checks `value` against the service model's shape `name`: members exist, enums hold, types match.
void expect_shape(const json& model, const std::string& name, const json& value, const std::string& where) {
  const json& shape = model["shapes"][name];
  const std::string type = shape["type"];
  if (type == "structure") {
    ASSERT_TRUE(value.is_object()) << where;
    for (const auto& required : shape.value("required", json::array()))
      EXPECT_TRUE(value.contains(required.get<std::string>())) << where << ": " << required << " is required";
    for (const auto& [key, member] : value.items()) {
      ASSERT_TRUE(shape["members"].contains(key)) << where << ": " << name << " has no member " << key;
      expect_shape(model, shape["members"][key]["shape"], member, where + "." + key);
    }
  } else if (type == "list") {
    ASSERT_TRUE(value.is_array()) << where;
    for (size_t i = 0; i < value.size(); ++i)
      expect_shape(model, shape["member"]["shape"], value[i], where + "[" + std::to_string(i) + "]");
  } else if (type == "string") {
    ASSERT_TRUE(value.is_string()) << where;
    if (shape.contains("enum")) {
      const auto& values = shape["enum"];
      EXPECT_NE(std::find(values.begin(), values.end(), value), values.end()) << where << ": " << value;
    }
  } else if (type == "boolean") {
    EXPECT_TRUE(value.is_boolean()) << where;
  } else if (type == "integer" || type == "long") {
    EXPECT_TRUE(value.is_number_integer()) << where;
  }
}

void expect_valid(const ordered_json& doc) {
  if (!fs::exists(kServiceModel)) GTEST_SKIP() << kServiceModel << " absent (Debian's awscli)";
  const json model = json::parse(read_host_file(kServiceModel));
  if (doc.contains("import_image")) expect_shape(model, "ImportImageRequest", doc["import_image"], "import_image");
  for (const auto& part : doc.value("import_snapshot", ordered_json::array()))
    expect_shape(model, "ImportSnapshotRequest", part, "import_snapshot");
  if (doc.contains("register_image"))
    expect_shape(model, "RegisterImageRequest", doc["register_image"], "register_image");
}

TEST(AwsImport, LinuxBiosGuestGoesThroughImportImage) {
  const ordered_json doc = document(written(linux_facts("12", "6.1.0-18-amd64", "bios"), "vmdk", {"/out/guest.vmdk"}));
  EXPECT_EQ(doc["schema"], "vmfix.aws-import/1");
  EXPECT_EQ(doc["route"], "import-image");
  const ordered_json& request = doc["import_image"];
  EXPECT_EQ(request["BootMode"], "legacy-bios");
  EXPECT_EQ(request["Platform"], "Linux");
  EXPECT_EQ(request["Architecture"], "x86_64");
  EXPECT_EQ(request["LicenseType"], "BYOL");
  EXPECT_EQ(request["RoleName"], "vmimport");
  ASSERT_EQ(request["DiskContainers"].size(), 1u);
  EXPECT_EQ(request["DiskContainers"][0]["Format"], "VMDK");
  EXPECT_EQ(request["DiskContainers"][0]["UserBucket"]["S3Bucket"], "my-bucket");
  EXPECT_EQ(request["DiskContainers"][0]["UserBucket"]["S3Key"], "imports/guest.vmdk");
  EXPECT_EQ(doc["upload"][0]["url"], "s3://my-bucket/imports/guest.vmdk");
  EXPECT_EQ(doc["upload"][0]["file"], "/out/guest.vmdk");
  const ordered_json& tags = request["TagSpecifications"][0];
  EXPECT_EQ(tags["ResourceType"], "import-image-task");
  EXPECT_EQ(tags["Tags"][1]["Value"], doc["report_sha256"]);
  EXPECT_EQ(doc["report_sha256"].get<std::string>().size(), 64u);
  expect_valid(doc);
}

TEST(AwsImport, UefiMultiDiskAndOvaOutputs) {
  const ordered_json uefi =
      document(written(linux_facts("12", "6.1.0-18-amd64", "uefi"), "raw", {"/out/guest.img", "/out/guest-disk2.img"}));
  EXPECT_EQ(uefi["import_image"]["BootMode"], "uefi") << "never uefi-preferred, which import refuses";
  ASSERT_EQ(uefi["import_image"]["DiskContainers"].size(), 2u);
  EXPECT_EQ(uefi["import_image"]["DiskContainers"][0]["UserBucket"]["S3Key"], "imports/guest.img") << "boot disk first";
  EXPECT_EQ(uefi["import_image"]["DiskContainers"][1]["Format"], "RAW");
  expect_valid(uefi);
  const ordered_json ova = document(written(linux_facts("12", "6.1.0-18-amd64", "bios"), "ova", {"/out/vm.ova"}));
  ASSERT_EQ(ova["import_image"]["DiskContainers"].size(), 1u);
  EXPECT_EQ(ova["import_image"]["DiskContainers"][0]["Format"], "OVA");
  expect_valid(ova);
}

TEST(AwsImport, WindowsLicencesFollowTheEdition) {
  const Report server =
      written(windows_facts("Windows Server 2019 Datacenter", "Server", "17763", "bios"), "vhdx", {"/out/win.vhdx"});
  EXPECT_EQ(document(server)["import_image"]["LicenseType"], "AWS");
  EXPECT_EQ(document(server, {"s3://b", AwsRoute::automatic, true})["import_image"]["LicenseType"], "BYOL");
  EXPECT_EQ(document(server)["import_image"]["Platform"], "Windows");
  EXPECT_EQ(document(server)["import_image"]["DiskContainers"][0]["Format"], "VHDX");
  expect_valid(document(server));
  const Report client = written(windows_facts("Windows 10 Pro", "Client", "19045", "bios"), "vhd", {"/out/win10.vhd"});
  EXPECT_EQ(document(client)["import_image"]["LicenseType"], "BYOL") << "a client OS is BYOL only";
  EXPECT_EQ(document(client, {"s3://b", AwsRoute::automatic, false})["import_image"]["LicenseType"], "BYOL");
  expect_valid(document(client));
}

TEST(AwsImport, AKernelImportImageRefusesTakesTheSnapshotRoute) {
  const Report trixie =
      written(linux_facts("13", "6.12.48-amd64", "bios"), "vmdk", {"/out/t.vmdk", "/out/t-disk2.vmdk"});
  const ordered_json doc = document(trixie);
  EXPECT_EQ(doc["route"], "import-snapshot");
  ASSERT_FALSE(doc["reasons"].empty());
  EXPECT_NE(doc["reasons"][0].get<std::string>().find("os-supported"), std::string::npos) << doc["reasons"];
  EXPECT_FALSE(doc.contains("import_image"));
  ASSERT_EQ(doc["import_snapshot"].size(), 2u);
  EXPECT_EQ(doc["import_snapshot"][1]["DiskContainer"]["UserBucket"]["S3Key"], "imports/t-disk2.vmdk");
  EXPECT_EQ(doc["import_snapshot"][0]["TagSpecifications"][0]["ResourceType"], "import-snapshot-task");
  const ordered_json& image = doc["register_image"];
  EXPECT_EQ(image["RootDeviceName"], "/dev/xvda");
  EXPECT_EQ(image["BlockDeviceMappings"][0]["DeviceName"], "/dev/xvda");
  EXPECT_EQ(image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"], "{{snapshot-id:0}}");
  EXPECT_EQ(image["BlockDeviceMappings"][1]["DeviceName"], "/dev/xvdb");
  EXPECT_EQ(image["BlockDeviceMappings"][1]["Ebs"]["SnapshotId"], "{{snapshot-id:1}}");
  EXPECT_EQ(image["VirtualizationType"], "hvm");
  EXPECT_EQ(image["BootMode"], "legacy-bios");
  EXPECT_FALSE(image.contains("TpmSupport"));
  expect_valid(doc);

  const Report eleven = written(windows_facts("Windows 10 Pro", "Client", "22631", "uefi"), "vmdk", {"/out/w11.vmdk"});
  const ordered_json asked = document(eleven, {"s3://b/p", AwsRoute::snapshot});
  EXPECT_EQ(asked["route"], "import-snapshot");
  EXPECT_EQ(asked["register_image"]["TpmSupport"], "v2.0") << "Windows 11 on UEFI";
  EXPECT_EQ(asked["register_image"]["RootDeviceName"], "/dev/sda1");
  EXPECT_EQ(asked["import_snapshot"][0]["DiskContainer"]["UserBucket"]["S3Key"], "p/w11.vmdk");
  expect_valid(asked);
}

TEST(AwsImport, PlaceholdersProblemsAndBadInput) {
  Report report = written(linux_facts("12", "6.1.0-18-amd64", "bios"), "vmdk", {"/out/guest.vmdk"});
  const ordered_json placeholders = document(report, {});
  EXPECT_EQ(placeholders["import_image"]["DiskContainers"][0]["UserBucket"]["S3Bucket"], "{{s3-bucket}}");
  EXPECT_EQ(placeholders["upload"][0]["url"], "s3://{{s3-bucket}}/guest.vmdk");
  report.written = false;
  const auto problems = document(report)["problems"];
  EXPECT_NE(problems.dump().find("not written"), std::string::npos) << problems;
  const ordered_json vhdx_snapshot = document(
      written(linux_facts("12", "6.1.0-18-amd64", "bios"), "vhdx", {"/out/g.vhdx"}), {"s3://b", AwsRoute::snapshot});
  EXPECT_NE(vhdx_snapshot["problems"].dump().find("import-snapshot takes VHD, VMDK or raw"), std::string::npos);

  EXPECT_THROW(check_s3_url("https://my-bucket.s3.amazonaws.com/x"), UsageError);
  EXPECT_THROW(check_s3_url("s3://"), UsageError);
  EXPECT_THROW(check_s3_url("s3:///key"), UsageError);
  EXPECT_NO_THROW(check_s3_url("s3://bucket"));
  EXPECT_NO_THROW(check_s3_url("s3://bucket/a/b/"));
  EXPECT_THROW(aws_route_named("fast"), UsageError);
  EXPECT_EQ(aws_route_named("snapshot"), AwsRoute::snapshot);
}

// The aws CLI parses each request and stops only where it would connect (a closed local port).
TEST(AwsImport, TheAwsCliAcceptsEachRequest) {
  if (!fs::exists(kAwsCli)) GTEST_SKIP() << kAwsCli << " absent (Debian's awscli)";
  TempDir scratch("vmfix-aws-cli");
  auto run = [&](const std::string& command, const ordered_json& request) {
    const fs::path file = scratch.path() / (command + ".json");
    write_host_file_atomic(file, request.dump(2));
    return run_host({"env", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
                     "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1",
                     kAwsCli, "ec2", command, "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9",
                     "--cli-read-timeout", "2", "--cli-connect-timeout", "2", "--cli-input-json",
                     "file://" + file.string()});
  };
  const ordered_json image =
      document(written(linux_facts("12", "6.1.0-18-amd64", "uefi"), "vmdk", {"/out/g.vmdk", "/out/g-disk2.vmdk"}));
  const ordered_json snapshot = document(written(linux_facts("13", "6.12.48-amd64", "bios"), "vmdk", {"/out/t.vmdk"}));
  for (const auto& [command, request] :
       std::vector<std::pair<std::string, ordered_json>>{{"import-image", image["import_image"]},
                                                         {"import-snapshot", snapshot["import_snapshot"][0]},
                                                         {"register-image", snapshot["register_image"]}}) {
    const ProcessResult result = run(command, request);
    EXPECT_NE(result.exit_status, 0) << command;
    EXPECT_EQ(result.output.find("Parameter validation failed"), std::string::npos) << command << ": " << result.output;
    EXPECT_EQ(result.output.find("Unknown parameter"), std::string::npos) << command << ": " << result.output;
    EXPECT_NE(result.output.find("Could not connect to the endpoint URL"), std::string::npos)
        << command << ": " << result.output;
  }
}

// What --aws-import-json writes, aws-import reads; a document of any other shape is one BadInput
// naming the file (a member of the wrong type once escaped as the JSON library's type_error).
TEST(AwsImport, ImportDocumentsOfAnyShapeAreReadOrRefusedByName) {
  ordered_json image =
      document(written(linux_facts("12", "6.1.0-18-amd64", "uefi"), "vmdk", {"/out/g.vmdk", "/out/g-disk2.vmdk"}));
  ordered_json snapshot = document(written(linux_facts("13", "6.12.48-amd64", "bios"), "vmdk", {"/out/t.vmdk"}));
  image["problems"] = snapshot["problems"] = json::array();  // (these facts' verdicts are not ready)
  const ImportDocument read_image = parse_import_document(image.dump(2), "job.json");
  EXPECT_EQ(read_image.route, "import-image");
  ASSERT_EQ(read_image.uploads.size(), 2u);
  EXPECT_EQ(read_image.uploads[1].file, "/out/g-disk2.vmdk");
  EXPECT_EQ(read_image.uploads[1].url, image["upload"][1]["url"]);
  EXPECT_EQ(read_image.import_image, json::parse(image["import_image"].dump()));
  const ImportDocument read_snapshot = parse_import_document(snapshot.dump(), "job.json");
  EXPECT_EQ(read_snapshot.route, "import-snapshot");
  ASSERT_EQ(read_snapshot.import_snapshot.size(), 1u);
  EXPECT_EQ(read_snapshot.register_image, json::parse(snapshot["register_image"].dump()));

  std::vector<std::string> bad{"", "5", "[]", "\"vmfix.aws-import/1\"", R"({"schema": 5})", R"({"schema": null})"};
  auto changed = [&](const ordered_json& from, const std::function<void(ordered_json&)>& change) {
    ordered_json copy = from;
    change(copy);
    bad.push_back(copy.dump());
  };
  changed(image, [](ordered_json& d) { d["route"] = 7; });
  changed(image, [](ordered_json& d) { d["route"] = json::array({"import-image"}); });
  changed(image, [](ordered_json& d) { d["problems"] = "none"; });
  changed(image, [](ordered_json& d) { d["problems"] = {{"why", "blocked"}}; });
  changed(image, [](ordered_json& d) { d["upload"] = {{"file", "/out/g.vmdk"}}; });
  changed(image, [](ordered_json& d) { d["upload"] = json::array({5}); });
  changed(image, [](ordered_json& d) { d["upload"][0]["file"] = 5; });
  changed(image, [](ordered_json& d) { d["upload"][0].erase("url"); });
  changed(image, [](ordered_json& d) { d["upload"][0]["url"] = json::array({"s3://b/k"}); });
  changed(image, [](ordered_json& d) { d["upload"][0]["url"] = "https://b/k\ns3://b/k"; });
  changed(image, [](ordered_json& d) { d.erase("import_image"); });
  changed(image, [](ordered_json& d) { d["import_image"] = json::array(); });
  changed(snapshot, [](ordered_json& d) { d["import_snapshot"] = d["import_snapshot"][0]; });
  changed(snapshot, [](ordered_json& d) { d["import_snapshot"] = json::array(); });
  changed(snapshot, [](ordered_json& d) { d["import_snapshot"].push_back("disk2"); });
  changed(snapshot, [](ordered_json& d) { d["register_image"] = "ami"; });
  changed(snapshot, [](ordered_json& d) { d.erase("register_image"); });
  for (const std::string& text : bad) {
    try {
      parse_import_document(text, "/jobs/job.json");
      ADD_FAILURE() << "read: " << text;
    } catch (const BadInput& e) {
      const std::string message = e.what();
      EXPECT_TRUE(message.starts_with("/jobs/job.json: ")) << message;
      EXPECT_EQ(message.find_first_of("\r\n"), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace vmfix::remediate
