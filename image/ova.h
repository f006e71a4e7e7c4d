#pragma once
// The members of an OVA (a tar archive), read without unpacking it. Only plain files are
// accepted: a link, device, absolute path or ".." in an OVA is hostile and refused.
#include <cstdint>
#include <filesystem>
#include <functional>
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

// One member of an archive vmfix writes: `content`, or the bytes of `file` when it is set.
struct TarInput {
  std::string name;  // a plain file name
  std::string content;
  std::filesystem::path file;
};

// Writes a POSIX (ustar) archive of `inputs`, in order, to `archive`, which must not exist.
// Members of 8 GiB and more get a pax size record. `on_copied(bytes)` sees file data go by.
void write_tar(const std::filesystem::path& archive, const std::vector<TarInput>& inputs,
               const std::function<void(uint64_t)>& on_copied = {});

}  // namespace vmfix::image
