#pragma once
// The members of an OVA (a tar archive), read without unpacking it. Only plain files are
// accepted: a link, device, absolute path or ".." in an OVA is hostile and refused.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vmfix::image {

struct TarMember {
  std::string name;     // normalised: no leading "./"
  uint64_t offset = 0;  // of the data in the archive
  uint64_t size = 0;
};

std::vector<TarMember> read_tar_members(const std::filesystem::path& archive);

bool looks_like_tar(std::string_view first_block);

}  // namespace vmfix::image
