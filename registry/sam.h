#pragma once
// Local accounts from a SAM hive (Windows\System32\config\SAM): name, whether the account is
// disabled, and whether it has a password. Read from the account's F and V values
// (SAM\Domains\Account\Users\<RID>): the account-control flags in F, the name and the NT hash
// entry's length in V. No hash is ever decoded or reported: only whether one is stored.
#include <cstdint>
#include <string>
#include <vector>

#include "registry/hive.h"

namespace vmfix::registry {

struct SamAccount {
  uint32_t rid = 0;
  std::string name;
  bool disabled = false;               // ACB_DISABLED
  bool password_not_required = false;  // ACB_PWNOTREQ
  bool has_password = false;           // an NT hash is stored
};

// Every account under SAM\Domains\Account\Users, in RID order. Throws HiveError when the hive
// has no such key or an account's F or V value is malformed.
std::vector<SamAccount> read_sam_accounts(Hive& sam);

// F and V values laid out as Windows writes them, for fixtures and tests: `acb` account-control
// bits; an NT hash entry of `nt_hash_length` bytes (4: the RC4 header alone, no password; 20: an
// RC4-era hash; 0x18: the AES header alone, no password; 0x38: an AES-era hash), filler bytes,
// never a real hash.
std::string sam_f_value(uint16_t acb);
std::string sam_v_value(const std::string& name, uint32_t nt_hash_length);
inline constexpr uint16_t kAcbNormalAccount = 0x0010;
inline constexpr uint16_t kAcbDisabledFlag = 0x0001;

}  // namespace vmfix::registry
