#pragma once
#include "cli/options.h"

namespace vmfix::cli {

// vmfix --inspect: one read-only appliance launch; prints the facts; returns the exit code.
int run_inspect(const Options& options);

}  // namespace vmfix::cli
