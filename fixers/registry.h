#pragma once
// The table of fixers, in the order they run. Adding one: a file here, a make_ line, a line below.
#include <memory>
#include <string>
#include <vector>

#include "fixers/fixer.h"

namespace vmfix::fixers {

std::vector<std::unique_ptr<Fixer>> all_fixers();

// The fixers named in `ids`, in table order; an unknown id is a UsageError.
std::vector<std::unique_ptr<Fixer>> select_fixers(const std::vector<std::string>& ids);

std::unique_ptr<Fixer> make_rtc_utc();
std::unique_ptr<Fixer> make_rdp();
std::unique_ptr<Fixer> make_autologon();
std::unique_ptr<Fixer> make_pagefile();
std::unique_ptr<Fixer> make_network_dhcp_windows();

}  // namespace vmfix::fixers
