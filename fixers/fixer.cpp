#include "fixers/fixer.h"

namespace vmfix::fixers {

std::string_view to_string(Status status) {
  switch (status) {
    case Status::pass:
      return "pass";
    case Status::fail:
      return "fail";
    case Status::unknown:
      return "unknown";
    case Status::skipped:
      return "skipped";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, Status status) { return out << to_string(status); }

}  // namespace vmfix::fixers
