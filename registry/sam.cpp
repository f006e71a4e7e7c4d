#include "registry/sam.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "registry/values.h"

namespace vmfix::registry {

namespace {

// The V value: a table of (offset, length, unused) triples, offsets relative to the end of the
// table at 0xCC. Entry 1 (at 0x0C) is the user name, entry 14 (at 0xA8) the NT hash.
constexpr size_t kVData = 0xCC;
constexpr size_t kNameEntry = 0x0C;
constexpr size_t kNtHashEntry = 0xA8;
// The F value: the account-control bits at 0x38.
constexpr size_t kAcb = 0x38;
constexpr uint16_t kAcbDisabled = 0x0001;
constexpr uint16_t kAcbPasswordNotRequired = 0x0004;
// A stored NT hash is 16 bytes after a 4-byte header (RC4 era), or longer (AES, Windows 10 1607
// and later); an entry of 4 bytes or less is the header alone: no password.
constexpr uint32_t kHeaderOnly = 4;
constexpr uint32_t kAesHeader = 0x18;

uint32_t u32(const std::string& data, size_t at) {
  uint32_t value = 0;
  std::memcpy(&value, data.data() + at, 4);
  return value;
}

}  // namespace

std::vector<SamAccount> read_sam_accounts(Hive& sam) {
  auto users = sam.find("SAM\\Domains\\Account\\Users");
  if (!users)
    throw HiveError(fmt::format("{}: no SAM\\Domains\\Account\\Users key; not a SAM hive", sam.path().string()));
  std::vector<SamAccount> accounts;
  for (Node node : sam.subkeys(*users)) {
    const std::string key = sam.name(node);
    if (key.size() != 8 ||
        !std::all_of(key.begin(), key.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
      continue;  // "Names" and anything else that is not a RID
    auto fail = [&](std::string_view why) {
      return HiveError(fmt::format("{}: account {}: {}", sam.path().string(), key, why));
    };
    auto f = sam.value(node, "F");
    auto v = sam.value(node, "V");
    if (!f || !v) throw fail("no F or V value");
    if (f->data.size() < kAcb + 2) throw fail("F is too short");
    if (v->data.size() < kVData) throw fail("V is too short");
    SamAccount account;
    account.rid = static_cast<uint32_t>(std::stoul(key, nullptr, 16));
    uint16_t acb = 0;
    std::memcpy(&acb, f->data.data() + kAcb, 2);
    account.disabled = (acb & kAcbDisabled) != 0;
    account.password_not_required = (acb & kAcbPasswordNotRequired) != 0;
    const uint64_t name_at = kVData + uint64_t{u32(v->data, kNameEntry)}, name_length = u32(v->data, kNameEntry + 4);
    if (name_at + name_length > v->data.size()) throw fail("its name lies outside V");
    account.name = utf16le_to_utf8(std::string_view(v->data).substr(name_at, name_length));
    const uint64_t hash_at = kVData + uint64_t{u32(v->data, kNtHashEntry)},
                   hash_length = u32(v->data, kNtHashEntry + 4);
    if (hash_length > kHeaderOnly && hash_at + hash_length > v->data.size())
      throw fail("its NT hash entry lies outside V");
    // The entry's revision (its third and fourth bytes): 1 is RC4 (header, then the hash), 2 is
    // AES (header, data offset and salt: 0x18 bytes, then the encrypted hash, if any).
    uint16_t revision = 1;
    // A header-only entry may point past V (no password either way): its revision is read only
    // where it lies inside.
    if (hash_length >= kHeaderOnly && hash_at + kHeaderOnly <= v->data.size())
      std::memcpy(&revision, v->data.data() + hash_at + 2, 2);
    account.has_password = hash_length > (revision == 2 ? kAesHeader : kHeaderOnly);
    accounts.push_back(std::move(account));
  }
  std::sort(accounts.begin(), accounts.end(), [](const SamAccount& a, const SamAccount& b) { return a.rid < b.rid; });
  return accounts;
}

std::string sam_f_value(uint16_t acb) {
  std::string f(0x50, '\0');
  std::memcpy(f.data() + kAcb, &acb, 2);
  return f;
}

std::string sam_v_value(const std::string& name, uint32_t nt_hash_length) {
  std::string v(kVData, '\0');
  auto put = [&](size_t at, uint32_t value) { std::memcpy(v.data() + at, &value, 4); };
  std::string utf16 = utf8_to_utf16le(name);
  utf16.resize(name.size() * 2);  // no terminating NUL in V
  put(kNameEntry, 0);
  put(kNameEntry + 4, static_cast<uint32_t>(utf16.size()));
  v += utf16;
  put(kNtHashEntry, static_cast<uint32_t>(v.size() - kVData));
  put(kNtHashEntry + 4, nt_hash_length);
  const char* header = nt_hash_length >= kAesHeader ? "\x03\x00\x02\x00" : "\x03\x00\x01\x00";  // AES or RC4 revision
  if (nt_hash_length > 0)
    v += std::string(header, 4) + std::string(nt_hash_length > 4 ? nt_hash_length - 4 : 0, '\x5a');
  return v;
}

}  // namespace vmfix::registry
