#include "registry/empty_hive.h"

#include <cstdint>
#include <cstring>

#include "support/bytes.h"

namespace vmfix::registry {

namespace {

// A self-relative security descriptor: owner Administrators, group SYSTEM, and a DACL granting
// Everyone full control, inherited by subkeys (what regedit gives a freshly loaded hive).
std::string security_descriptor() {
  const unsigned char administrators[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
  const unsigned char system[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
  const unsigned char everyone[] = {1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
  std::string sd(20, '\0');
  sd[0] = 1;                                                     // revision
  put_le16(sd, 2, 0x8004);                                       // SE_SELF_RELATIVE | SE_DACL_PRESENT
  put_le32(sd, 4, 20);                                           // owner
  put_le32(sd, 8, 20 + sizeof administrators);                   // group
  put_le32(sd, 16, 20 + sizeof administrators + sizeof system);  // DACL
  sd.append(reinterpret_cast<const char*>(administrators), sizeof administrators);
  sd.append(reinterpret_cast<const char*>(system), sizeof system);
  std::string acl(8, '\0'), ace(8, '\0');
  ace[0] = 0;     // ACCESS_ALLOWED_ACE_TYPE
  ace[1] = 0x03;  // OBJECT_INHERIT | CONTAINER_INHERIT
  put_le16(ace, 2, static_cast<uint16_t>(8 + sizeof everyone));
  put_le32(ace, 4, 0x000F003F);  // KEY_ALL_ACCESS
  ace.append(reinterpret_cast<const char*>(everyone), sizeof everyone);
  acl[0] = 2;  // ACL revision
  put_le16(acl, 2, static_cast<uint16_t>(8 + ace.size()));
  put_le16(acl, 4, 1);  // one ACE
  return sd + acl + ace;
}

}  // namespace

std::string empty_hive(std::string_view root_name) {
  constexpr size_t kBaseBlock = 4096, kBin = 4096, kBinHeader = 32;
  constexpr uint64_t kTimestamp = 0x01d0000000000000ULL;  // a fixed FILETIME keeps output reproducible
  std::string hive(kBaseBlock + kBin, '\0');

  // Base block ("regf").
  std::memcpy(hive.data(), "regf", 4);
  put_le32(hive, 4, 1);  // primary sequence number
  put_le32(hive, 8, 1);  // secondary: equal, so the hive is clean
  put_le64(hive, 12, kTimestamp);
  put_le32(hive, 20, 1);           // major version
  put_le32(hive, 24, 5);           // minor version
  put_le32(hive, 28, 0);           // primary file
  put_le32(hive, 32, 1);           // direct memory load format
  put_le32(hive, 36, kBinHeader);  // root cell offset, relative to the first bin
  put_le32(hive, 40, kBin);        // size of the bins
  put_le32(hive, 44, 1);           // clustering factor
  uint32_t checksum = 0;
  for (size_t at = 0; at < 508; at += 4) {
    uint32_t word;
    std::memcpy(&word, hive.data() + at, 4);
    checksum ^= word;
  }
  put_le32(hive, 508, checksum);

  // The bin.
  std::string& b = hive;
  const size_t bin = kBaseBlock;
  std::memcpy(b.data() + bin, "hbin", 4);
  put_le32(b, bin + 4, 0);
  put_le32(b, bin + 8, kBin);
  put_le64(b, bin + 20, kTimestamp);

  // Root key cell ("nk"), then the security cell ("sk"), then one free cell for the rest.
  const std::string sd = security_descriptor();
  const size_t nk = bin + kBinHeader;
  const size_t nk_size = (4 + 76 + root_name.size() + 7) & ~size_t{7};
  const size_t sk = nk + nk_size;
  const size_t sk_size = (4 + 20 + sd.size() + 7) & ~size_t{7};
  const auto sk_offset = static_cast<uint32_t>(sk - bin);

  put_le32(b, nk, static_cast<uint32_t>(-static_cast<int32_t>(nk_size)));  // negative: allocated
  std::memcpy(b.data() + nk + 4, "nk", 2);
  put_le16(b, nk + 6, 0x2c);  // KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME
  put_le64(b, nk + 8, kTimestamp);
  put_le32(b, nk + 20, 0xffffffff);  // parent (none)
  put_le32(b, nk + 32, 0xffffffff);  // subkey list
  put_le32(b, nk + 36, 0xffffffff);  // volatile subkey list
  put_le32(b, nk + 44, 0xffffffff);  // value list
  put_le32(b, nk + 48, sk_offset);
  put_le32(b, nk + 52, 0xffffffff);  // class name
  put_le16(b, nk + 76, static_cast<uint16_t>(root_name.size()));
  std::memcpy(b.data() + nk + 80, root_name.data(), root_name.size());

  put_le32(b, sk, static_cast<uint32_t>(-static_cast<int32_t>(sk_size)));
  std::memcpy(b.data() + sk + 4, "sk", 2);
  put_le32(b, sk + 8, sk_offset);  // the only descriptor links to itself both ways
  put_le32(b, sk + 12, sk_offset);
  put_le32(b, sk + 16, 1);  // reference count: the root key
  put_le32(b, sk + 20, static_cast<uint32_t>(sd.size()));
  std::memcpy(b.data() + sk + 24, sd.data(), sd.size());

  const size_t free_cell = sk + sk_size;
  put_le32(b, free_cell, static_cast<uint32_t>(bin + kBin - free_cell));  // positive: free
  return hive;
}

}  // namespace vmfix::registry
