#include "support/error.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>

namespace vmfix {

void throw_errno(const std::string& what) { throw Error(fmt::format("{}: {}", what, std::strerror(errno))); }

}  // namespace vmfix
