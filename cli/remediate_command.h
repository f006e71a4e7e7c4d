#pragma once
#include "cli/options.h"

namespace vmfix::cli {

// vmfix --check | --all | --fix ID[,ID] | --dry-run: the profile's rules, the fixers, the output.
int run_remediate(const Options& options);
// vmfix --list-fixers
int run_list_fixers(const Options& options);
// vmfix --list-rules [--profile NAME]
int run_list_rules(const Options& options);

}  // namespace vmfix::cli
