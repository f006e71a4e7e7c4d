#pragma once
// vmfix aws-import: runs a vmfix.aws-import/1 document with the aws CLI. The disks go up with
// `aws s3 cp` (multipart, its own progress), the import starts with the document's own request,
// and the task is polled until AWS says completed or gives up. Credentials and region are the aws
// CLI's own configuration; vmfix stores none.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vmfix::remediate {

struct AwsJobOptions {
  std::filesystem::path document;
  std::optional<std::string> task;  // --task ID: poll an import already started instead
  int poll_seconds = 30;
  std::vector<std::string> aws_args;  // passed to every aws call ($VMFIX_AWS_ARGS, e.g. --endpoint-url)
  std::string aws = "aws";
};

// Exit: 0 completed (the image id on stdout), 2 the task failed (AWS's message, and the vmfix
// rule that predicts it where one does), 65 a bad document or a task AWS does not know, 70 the aws
// CLI failing otherwise (no credentials, no network).
int run_aws_import(const AwsJobOptions& options);

// `args` are those after "aws-import"; VMFIX_AWS_CLI and VMFIX_AWS_ARGS from the environment.
// Throws UsageError; nullopt for --help (the usage is printed).
std::optional<AwsJobOptions> parse_aws_import_options(const std::vector<std::string>& args);

// The vmfix rule whose known AWS error this task message is, "" when none is.
std::string rule_predicting(const std::string& status_message);

}  // namespace vmfix::remediate
