#pragma once
#include "cli/options.h"

namespace vmfix::cli {

// vmfix --fix ID[,ID]: apply these fixers in one appliance launch and write the output image.
int run_fix(const Options& options);
// vmfix --list-fixers
int run_list_fixers(const Options& options);

}  // namespace vmfix::cli
