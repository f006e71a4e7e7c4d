#pragma once
// A new, empty registry hive: a base block and one bin holding the root key and its security
// descriptor. hivex cannot create hives, only edit them; tests and fixture builders start here.
#include <string>
#include <string_view>

namespace vmfix::registry {

std::string empty_hive(std::string_view root_name = "ROOT");

}  // namespace vmfix::registry
