#pragma once
// VMDK validation: sparse headers (monolithicSparse, streamOptimized) and text descriptors.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "image/byte_source.h"

namespace vmfix::image {

struct VmdkExtent {
  std::string access;  // RW, RDONLY, NOACCESS
  uint64_t sectors = 0;
  std::string type;     // FLAT, SPARSE, ZERO, VMFS, ...
  std::string file;     // as written in the descriptor
  uint64_t offset = 0;  // in sectors, FLAT only
};

struct VmdkDescriptor {
  std::string create_type;
  std::string parent_cid;
  std::string parent_file_name_hint;
  std::vector<VmdkExtent> extents;
  std::vector<std::string> malformed;  // lines that are neither comments, settings nor extents
};

VmdkDescriptor parse_vmdk_descriptor(std::string_view text);

// Validates a sparse VMDK ("KDMV" header) and returns its create type and capacity in bytes.
struct SparseVmdkInfo {
  std::string create_type;
  uint64_t capacity_bytes = 0;
  std::vector<std::filesystem::path> files;  // extent files a descriptor uses
};
SparseVmdkInfo check_sparse_vmdk(const ByteSource& source);

// Validates a descriptor-only VMDK and its extents (which must sit beside it); returns capacity.
SparseVmdkInfo check_vmdk_descriptor(const std::filesystem::path& path, std::string_view text);

}  // namespace vmfix::image
