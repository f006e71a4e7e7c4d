#pragma once
// Shared by the evaluator files: each adds its evaluators to the table, keyed by rule id.
#include <map>
#include <optional>
#include <string>

#include "rules/engine.h"

namespace vmfix::rules {

void add_system_checks(std::map<std::string, Evaluator>& table);   // os, image, disk, network
void add_guest_checks(std::map<std::string, Evaluator>& table);    // prepare, windows, linux
void add_windows_checks(std::map<std::string, Evaluator>& table);  // FirstBootFailure causes, RDP, agents

Outcome pass(std::string message, std::vector<std::string> evidence = {});
Outcome fail(std::string message, std::vector<std::string> evidence = {});
Outcome unknown(std::string message, std::vector<std::string> evidence = {});

// The kernel the guest boots by default: the default GRUB entry's, else the newest installed.
struct DefaultKernel {
  std::string version;  // "" when none is found
  std::string evidence;
};
DefaultKernel default_kernel(const inspect::Facts& facts);

// The profile's Windows product a guest's product name belongs to ("Windows Server 2012 R2"),
// the longest listed name that prefixes it; "" when none does.
std::string windows_product(const Profile& profile, const inspect::Facts& facts);
bool is_windows_server(const inspect::Facts& facts);

}  // namespace vmfix::rules
