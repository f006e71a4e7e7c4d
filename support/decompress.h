#pragma once
// The compressions Linux boot files use (initramfs archives, the kernel's own payload), told
// apart by their magic and decompressed whole on the host, within a size limit.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vmfix {

enum class Compression { gzip, xz, lzma, zstd, lz4_legacy };

// "gzip", "xz", "lzma", "zstd", "lz4".
std::string_view compression_name(Compression kind);

// The compression whose magic `data` starts with; nothing for anything else (bzip2 included).
std::optional<Compression> compression_of(std::string_view data);

// Decompresses `in`; bytes after the end of the compressed stream (padding, a size trailer) are
// ignored. Throws vmfix::BadInput naming `what` ("initramfs", "kernel") for damaged data, for
// more than `limit` bytes of output, and for an xz/lzma header asking for over 256 MiB.
std::string decompress(Compression kind, std::string_view in, size_t limit, std::string_view what);

}  // namespace vmfix
