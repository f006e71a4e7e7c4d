#pragma once
// The hand-off to AWS: what the import job must be told, from the image (vmfix.aws-import/1).
// The route (import-image, or import-snapshot + register-image when import-image would refuse
// the kernel or OS), the disks in boot order with their formats and S3 keys, the boot mode, the
// platform, the architecture and the licence, as documents `aws ec2 ... --cli-input-json` takes.
#include <nlohmann/json.hpp>
#include <string>

#include "remediate/report.h"

namespace vmfix::remediate {

enum class AwsRoute { automatic, image, snapshot };

struct AwsImportOptions {
  std::string s3;  // "s3://BUCKET/PREFIX/"; "" gives placeholders the pipeline fills
  AwsRoute route = AwsRoute::automatic;
  bool byol = false;  // a Windows server brings its own licence instead of AWS's
  std::string role = "vmimport";
};

// "s3://BUCKET" or "s3://BUCKET/PREFIX[/]"; anything else is a UsageError.
void check_s3_url(const std::string& url);
// "auto", "image" or "snapshot"; anything else is a UsageError.
AwsRoute aws_route_named(const std::string& name);

// The document; `report_text` is the report as --report writes it (its SHA-256 tags the import).
nlohmann::ordered_json aws_import_document(const Report& report, const std::string& report_text,
                                           const AwsImportOptions& options);

}  // namespace vmfix::remediate
