#include "remediate/aws_import.h"

#include <fmt/core.h>

#include <filesystem>

#include "image/manifest.h"
#include "rules/checks.h"
#include "support/error.h"
#include "support/text.h"

namespace vmfix::remediate {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

constexpr const char* kSchema = "vmfix.aws-import/1";
constexpr const char* kBucketPlaceholder = "{{s3-bucket}}";

// One disk as it goes to S3: the host file, the format AWS calls it, its key in the bucket.
struct Upload {
  fs::path file;
  std::string format;  // "RAW", "VHD", "VHDX", "VMDK", "OVA"; "" when AWS imports none of it
  std::string key;
};

struct Bucket {
  std::string name, prefix;  // prefix "" or ending in '/'
};

Bucket bucket_of(const std::string& url) {
  if (url.empty()) return {kBucketPlaceholder, ""};
  std::string rest = url.substr(5);
  const size_t slash = rest.find('/');
  if (slash == std::string::npos) return {rest, ""};
  std::string prefix = rest.substr(slash + 1);
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  return {rest.substr(0, slash), prefix};
}

std::string aws_format(const std::string& vmfix_format) {
  if (vmfix_format == "raw") return "RAW";
  if (vmfix_format == "vhd" || vmfix_format == "vhd-fixed") return "VHD";
  if (vmfix_format == "vhdx") return "VHDX";
  if (vmfix_format == "vmdk") return "VMDK";  // vmfix writes VMDK streamOptimized only
  if (vmfix_format == "ova") return "OVA";
  return "";
}

// What --check sees: the source as it is. AWS takes raw, VHD, VHDX, streamOptimized VMDK and OVA.
std::vector<std::pair<fs::path, std::string>> source_files(const image::VmSource& vm) {
  if (vm.kind != "disk") return {{vm.path, vm.kind == "ova" ? "ova" : ""}};
  const image::SourceImage& disk = vm.disks.front();
  std::string format(image::to_string(disk.format));
  if (disk.format == image::Format::vmdk && disk.variant != "streamOptimized") format = "";
  if (disk.format == image::Format::qcow2) format = "";
  return {{vm.path, format}};
}

std::vector<Upload> uploads_of(const Report& report, const Bucket& bucket) {
  std::vector<std::pair<fs::path, std::string>> files;
  if (report.output)
    for (const fs::path& file : report.output->files) files.emplace_back(file, image::to_string(report.output->format));
  else
    files = source_files(report.vm);
  std::vector<Upload> uploads;
  for (const auto& [file, format] : files)
    uploads.push_back({file, aws_format(format), bucket.prefix + file.filename().string()});
  return uploads;
}

const rules::Result* result_of(const Report& report, const std::string& id) {
  for (const rules::Result& result : report.final_state().results)
    if (result.rule->id == id) return &result;
  return nullptr;
}

bool fails(const Report& report, const std::string& id) {
  const rules::Result* result = result_of(report, id);
  return result && result->outcome.status == rules::Status::fail;
}

bool windows_11(const inspect::Facts& facts) {
  return !rules::is_windows_server(facts) && std::atoi(facts.windows.current_build.c_str()) >= 22000;
}

std::string architecture(const inspect::Facts& facts) {
  if (facts.arch == "i386" || facts.arch == "i686") return "i386";
  if (facts.arch == "aarch64" || facts.arch == "arm64") return "arm64";
  return facts.arch;
}

// The route, and why.
std::pair<std::string, std::vector<std::string>> route_of(const Report& report, AwsRoute asked) {
  std::vector<std::string> reasons;
  if (asked == AwsRoute::snapshot) return {"import-snapshot", {"asked for (--aws-route snapshot)"}};
  for (const char* rule : {"os-supported", "linux-kernel-supported"})
    if (fails(report, rule))
      reasons.push_back(fmt::format("{}: {}; import-image would refuse it, import-snapshot does not check", rule,
                                    result_of(report, rule)->outcome.message));
  if (asked == AwsRoute::image) {
    reasons.insert(reasons.begin(), "asked for (--aws-route image)");
    return {"import-image", reasons};
  }
  if (!reasons.empty()) return {"import-snapshot", reasons};
  return {"import-image", {"the OS and its kernel are on AWS's lists for import-image"}};
}

ordered_json tags(const char* resource, const std::string& report_digest) {
  return ordered_json::array({{{"ResourceType", resource},
                               {"Tags",
                                {{{"Key", "vmfix:version"}, {"Value", VMFIX_VERSION}},
                                 {{"Key", "vmfix:report-sha256"}, {"Value", report_digest}}}}}});
}

// LicenseType as the licensing rules have it: Linux BYOL; Windows server AWS's unless the user
// brings their own; Windows client only BYOL.
std::string license_of(const inspect::Facts& facts, bool byol) {
  if (facts.os_type == "windows" && rules::is_windows_server(facts) && !byol) return "AWS";
  return "BYOL";
}

std::string description_of(const Report& report) {
  const inspect::Facts& facts = report.facts;
  const std::string os = facts.os_type == "windows" ? facts.product_name : facts.distro + " " + facts.product_name;
  return fmt::format("{} from {}, prepared by vmfix {}", os, report.vm.path.filename().string(), VMFIX_VERSION);
}

ordered_json import_image(const Report& report, const std::vector<Upload>& uploads, const Bucket& bucket,
                          const AwsImportOptions& options, const std::string& digest) {
  const inspect::Facts& facts = report.facts;
  ordered_json containers = ordered_json::array();
  for (size_t i = 0; i < uploads.size(); ++i)
    containers.push_back(
        {{"Description", fmt::format("disk {} of {}: {}", i + 1, uploads.size(), uploads[i].file.filename().string())},
         {"Format", uploads[i].format},
         {"UserBucket", {{"S3Bucket", bucket.name}, {"S3Key", uploads[i].key}}}});
  return {{"Description", description_of(report)},
          {"DiskContainers", containers},
          {"Architecture", architecture(facts)},
          {"Platform", facts.os_type == "windows" ? "Windows" : "Linux"},
          {"BootMode", facts.boot_mode == bootloader::BootMode::uefi ? "uefi" : "legacy-bios"},
          {"LicenseType", license_of(facts, options.byol)},
          {"RoleName", options.role},
          {"TagSpecifications", tags("import-image-task", digest)}};
}

ordered_json import_snapshots(const Report& report, const std::vector<Upload>& uploads, const Bucket& bucket,
                              const AwsImportOptions& options, const std::string& digest) {
  ordered_json documents = ordered_json::array();
  for (size_t i = 0; i < uploads.size(); ++i)
    documents.push_back(
        {{"Description", fmt::format("{}: disk {} of {}", description_of(report), i + 1, uploads.size())},
         {"DiskContainer",
          {{"Description", uploads[i].file.filename().string()},
           {"Format", uploads[i].format},
           {"UserBucket", {{"S3Bucket", bucket.name}, {"S3Key", uploads[i].key}}}}},
         {"RoleName", options.role},
         {"TagSpecifications", tags("import-snapshot-task", digest)}});
  return documents;
}

// register-image over the snapshots, whose ids the pipeline puts where {{snapshot-id:N}} stands.
ordered_json register_image(const Report& report, size_t disks) {
  const inspect::Facts& facts = report.facts;
  const bool windows = facts.os_type == "windows";
  const std::string root = windows ? "/dev/sda1" : "/dev/xvda";
  ordered_json mappings = ordered_json::array();
  for (size_t i = 0; i < disks; ++i)
    mappings.push_back(
        {{"DeviceName", i == 0 ? root : fmt::format("/dev/xvd{}", static_cast<char>('b' + i - 1))},
         {"Ebs", {{"SnapshotId", fmt::format("{{{{snapshot-id:{}}}}}", i)}, {"DeleteOnTermination", true}}}});
  ordered_json document{{"Name", fmt::format("vmfix-{}", report.vm.path.stem().string())},
                        {"Description", description_of(report)},
                        {"Architecture", architecture(facts)},
                        {"BootMode", facts.boot_mode == bootloader::BootMode::uefi ? "uefi" : "legacy-bios"},
                        {"RootDeviceName", root},
                        {"BlockDeviceMappings", mappings},
                        {"VirtualizationType", "hvm"},
                        {"SriovNetSupport", "simple"},
                        {"ImdsSupport", "v2.0"}};
  if (const rules::Result* ena = result_of(report, "linux-ena"); ena && ena->outcome.status == rules::Status::pass)
    document["EnaSupport"] = true;
  if (windows && facts.boot_mode == bootloader::BootMode::uefi && windows_11(facts)) document["TpmSupport"] = "v2.0";
  return document;
}

// What stops this document from being run as it is.
std::vector<std::string> problems_of(const Report& report, const std::vector<Upload>& uploads, bool snapshot) {
  std::vector<std::string> problems;
  if (report.final_state().verdict != rules::Verdict::ready)
    problems.push_back(fmt::format("the verdict is {}, not ready", rules::to_string(report.final_state().verdict)));
  if (report.output && !report.written) problems.push_back("the image was not written (--dry-run, or blockers remain)");
  for (const Upload& upload : uploads) {
    if (upload.format.empty())
      problems.push_back(fmt::format("{}: AWS imports none of this format; --all writes one it does",
                                     upload.file.filename().string()));
    else if (snapshot && (upload.format == "OVA" || upload.format == "VHDX"))
      problems.push_back(
          fmt::format("{}: import-snapshot takes VHD, VMDK or raw disks, not {}; write them with "
                      "--output-format vmdk",
                      upload.file.filename().string(), upload.format));
  }
  return problems;
}

}  // namespace

void check_s3_url(const std::string& url) {
  if (!is_s3_url(url)) throw UsageError(fmt::format("--s3 {}: give s3://BUCKET/PREFIX/", url));
}

AwsRoute aws_route_named(const std::string& name) {
  if (name == "auto") return AwsRoute::automatic;
  if (name == "image") return AwsRoute::image;
  if (name == "snapshot") return AwsRoute::snapshot;
  throw UsageError(fmt::format("--aws-route {}: auto, image or snapshot", name));
}

ordered_json aws_import_document(const Report& report, const std::string& report_text,
                                 const AwsImportOptions& options) {
  const Bucket bucket = bucket_of(options.s3);
  const std::vector<Upload> uploads = uploads_of(report, bucket);
  const std::string digest = image::digest_of(report_text, "SHA256");
  const auto [route, reasons] = route_of(report, options.route);
  const bool snapshot = route == "import-snapshot";
  ordered_json document{{"schema", kSchema},
                        {"vmfix_version", VMFIX_VERSION},
                        {"report_sha256", digest},
                        {"verdict", rules::to_string(report.final_state().verdict)},
                        {"route", route},
                        {"reasons", reasons},
                        {"problems", problems_of(report, uploads, snapshot)}};
  ordered_json upload = ordered_json::array();
  for (const Upload& u : uploads)
    upload.push_back({{"file", fs::absolute(u.file).string()}, {"url", fmt::format("s3://{}/{}", bucket.name, u.key)}});
  document["upload"] = upload;
  if (snapshot) {
    document["import_snapshot"] = import_snapshots(report, uploads, bucket, options, digest);
    document["register_image"] = register_image(report, uploads.size());
  } else {
    document["import_image"] = import_image(report, uploads, bucket, options, digest);
  }
  return document;
}

}  // namespace vmfix::remediate
