#pragma once
// One fixer id for a job done differently on Windows and Linux (network-dhcp, vmware-tools): the
// half that applies to the guest does the work.
#include <memory>

#include "fixers/fixer.h"

namespace vmfix::fixers {

std::unique_ptr<Fixer> make_by_os(std::unique_ptr<Fixer> windows, std::unique_ptr<Fixer> linux, std::string summary);

}  // namespace vmfix::fixers
