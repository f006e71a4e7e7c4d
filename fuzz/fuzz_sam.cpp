// Local accounts from a SAM hive. Two ways in: the input as a whole hive (hivex's parser and our
// walk of it), or a valid hive whose one account has the input as its F and V values (the record
// parsing vmfix does itself). The first byte picks the way; for the second, the next two bytes
// say how long F is.
#include <string>

#include "fuzz/fuzz_input.h"
#include "fuzz/properties.h"
#include "registry/empty_hive.h"
#include "registry/hive.h"
#include "registry/sam.h"
#include "registry/values.h"
#include "support/error.h"

namespace {

using namespace vmfix::registry;

void accounts_of(Hive& hive) {
  for (const SamAccount& account : read_sam_accounts(hive))
    vmfix::fuzz::require(account.name.find('\0') == std::string::npos, "an account name holds a NUL");
}

void one_account(std::string_view input) {
  if (input.size() < 2) return;
  const size_t f_size = std::min<size_t>(
      input.size() - 2, static_cast<uint8_t>(input[0]) | (size_t{static_cast<uint8_t>(input[1])} << 8));
  const std::string f(input.substr(2, f_size)), v(input.substr(2 + f_size));
  const std::string bytes = empty_hive("SAM");
  vmfix::fuzz::InputFile file(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  Hive hive(file.path(), Hive::Mode::writable);
  Node user = hive.create("SAM\\Domains\\Account\\Users\\000001F4");
  hive.set_value(user, make_binary("F", f));
  hive.set_value(user, make_binary("V", v));
  hive.create("SAM\\Domains\\Account\\Users\\Names\\Administrator");
  accounts_of(hive);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  try {
    if (data[0] & 1) {
      one_account(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    } else {
      vmfix::fuzz::InputFile file(data + 1, size - 1);
      Hive hive(file.path(), Hive::Mode::read_only);
      accounts_of(hive);
    }
  } catch (const vmfix::Error&) {
  }
  return 0;
}
