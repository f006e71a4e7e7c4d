#pragma once

namespace vmfix::cli {

// vmfix aws-import JOB.json [--task ID] [--poll SECONDS]: argv as main() has it.
int run_aws_import(int argc, char** argv);

}  // namespace vmfix::cli
