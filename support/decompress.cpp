#include "support/decompress.h"

#include <fmt/core.h>
#include <libdeflate.h>
#include <lz4.h>
#include <lzma.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "support/error.h"

namespace vmfix {

namespace {

// Streamed output grows by a chunk as large as what is already there, from 64 KiB to 1 MiB: a small
// input is not given (and made to zero) a megabyte, a large one is not resized a thousand times.
size_t next_chunk(size_t used) { return std::clamp(used, size_t{64} << 10, size_t{1} << 20); }

bool has_magic(std::string_view data, std::string_view magic) { return data.substr(0, magic.size()) == magic; }

void check_limit(const std::string& out, size_t limit, std::string_view what) {
  if (out.size() >= limit) throw BadInput(fmt::format("{}: more than {} MiB once decompressed", what, limit >> 20));
}

uint32_t le32(std::string_view data, size_t at) {
  uint32_t value = 0;
  std::memcpy(&value, data.data() + at, 4);
  return value;
}

// One gzip member into `out`; returns the bytes of `in` it took. libdeflate decompresses a whole
// member into a buffer at once (about twice zlib's speed), so the buffer starts at what the
// trailer says when the member ends the input, and doubles when that was wrong. Deflate cannot
// expand more than 1032 times, which bounds the buffer for any input.
size_t gunzip_member(libdeflate_decompressor* decompressor, std::string_view in, std::string& out, size_t limit,
                     std::string_view what) {
  const size_t room = limit - std::min(limit, out.size());
  const size_t most = std::min(room, in.size() * 1032 + 4096);
  size_t capacity = std::max(in.size() * 4, size_t{64} << 10);
  if (in.size() >= 18) capacity = std::max<size_t>(capacity, le32(in, in.size() - 4));
  capacity = std::min(capacity, most);
  const size_t used = out.size();
  while (true) {
    out.resize(used + capacity);
    size_t taken = 0, made = 0;
    libdeflate_result result =
        libdeflate_gzip_decompress_ex(decompressor, in.data(), in.size(), out.data() + used, capacity, &taken, &made);
    if (result == LIBDEFLATE_SUCCESS) {
      out.resize(used + made);
      return taken;
    }
    out.resize(used);
    if (result != LIBDEFLATE_INSUFFICIENT_SPACE) throw BadInput(fmt::format("{}: damaged gzip data", what));
    if (capacity >= most) throw BadInput(fmt::format("{}: more than {} MiB once decompressed", what, limit >> 20));
    capacity = std::min(capacity * 2, most);
  }
}

// gzip members may follow one another; zero padding or anything else ends the stream.
std::string gunzip(std::string_view in, size_t limit, std::string_view what) {
  std::unique_ptr<libdeflate_decompressor, decltype(&libdeflate_free_decompressor)> decompressor(
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
  if (!decompressor) throw Error("libdeflate: cannot initialise");
  std::string out;
  size_t at = 0;
  do {
    at += gunzip_member(decompressor.get(), in.substr(at), out, limit, what);
  } while (has_magic(in.substr(at), "\x1f\x8b"));
  return out;
}

std::string unxz(std::string_view in, bool lzma_alone, size_t limit, std::string_view what) {
  std::string out;
  lzma_stream s = LZMA_STREAM_INIT;
  // The header names the dictionary size, up to 4 GiB; what initramfs tools and kernel builds
  // write needs at most 64 MiB (xz -9). A crafted header must not make liblzma allocate gigabytes.
  constexpr uint64_t kMemoryLimit = uint64_t{256} << 20;
  lzma_ret ret =
      lzma_alone ? lzma_alone_decoder(&s, kMemoryLimit) : lzma_stream_decoder(&s, kMemoryLimit, LZMA_CONCATENATED);
  if (ret != LZMA_OK) throw Error("liblzma: cannot initialise");
  struct End {
    lzma_stream& s;
    ~End() { lzma_end(&s); }
  } end{s};
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  while (true) {
    const size_t used = out.size(), chunk = next_chunk(used);
    out.resize(used + chunk);
    s.next_out = reinterpret_cast<uint8_t*>(out.data() + used);
    s.avail_out = chunk;
    ret = lzma_code(&s, s.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
    out.resize(used + chunk - s.avail_out);
    if (ret == LZMA_STREAM_END) break;
    if (ret == LZMA_MEMLIMIT_ERROR)
      throw BadInput(
          fmt::format("{}: xz/lzma data that needs more than {} MiB to decompress", what, kMemoryLimit >> 20));
    if (ret != LZMA_OK) break;  // trailing padding after the stream, or damage
    check_limit(out, limit, what);
  }
  if (ret != LZMA_STREAM_END && out.empty()) throw BadInput(fmt::format("{}: damaged xz/lzma data", what));
  return out;
}

std::string unzstd(std::string_view in, size_t limit, std::string_view what) {
  std::string out;
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> stream(ZSTD_createDStream(), ZSTD_freeDStream);
  if (!stream) throw Error("zstd: cannot initialise");
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t status = 0;
  bool full = false;  // the last call filled its buffer: the decoder may hold more output
  while (input.pos < input.size || full) {
    const size_t used = out.size(), chunk = next_chunk(used);
    out.resize(used + chunk);
    ZSTD_outBuffer output{out.data() + used, chunk, 0};
    status = ZSTD_decompressStream(stream.get(), &output, &input);
    out.resize(used + output.pos);
    if (ZSTD_isError(status)) break;  // padding after the last frame, or damage
    full = output.pos == chunk;
    check_limit(out, limit, what);
  }
  if (ZSTD_isError(status) && out.empty())
    throw BadInput(fmt::format("{}: damaged zstd data ({})", what, ZSTD_getErrorName(status)));
  return out;
}

// The lz4 "legacy" format the kernel reads: a magic, then blocks of at most 8 MiB, each after its
// compressed size. Each block goes through one buffer that is never zeroed (LZ4 writes only what
// it makes), so a small block costs what it holds, not 8 MiB.
std::string unlz4_legacy(std::string_view in, size_t limit, std::string_view what) {
  constexpr uint32_t kMagic = 0x184C2102;
  constexpr int kBlock = 8 << 20;
  std::unique_ptr<char[]> block;
  std::string out;
  size_t at = 4;
  while (at + 4 <= in.size()) {
    uint32_t size = le32(in, at);
    at += 4;
    if (size == kMagic) continue;
    if (size == 0 || size > in.size() - at || size > static_cast<uint32_t>(LZ4_compressBound(kBlock))) break;
    if (!block) block.reset(new char[kBlock]);
    const int made = LZ4_decompress_safe(in.data() + at, block.get(), static_cast<int>(size), kBlock);
    if (made < 0) throw BadInput(fmt::format("{}: damaged lz4 data", what));
    out.append(block.get(), static_cast<size_t>(made));
    at += size;
    check_limit(out, limit, what);
  }
  return out;
}

}  // namespace

std::string_view compression_name(Compression kind) {
  switch (kind) {
    case Compression::gzip:
      return "gzip";
    case Compression::xz:
      return "xz";
    case Compression::lzma:
      return "lzma";
    case Compression::zstd:
      return "zstd";
    case Compression::lz4_legacy:
      return "lz4";
  }
  return "";
}

std::optional<Compression> compression_of(std::string_view data) {
  if (has_magic(data, "\x1f\x8b")) return Compression::gzip;
  if (has_magic(data,
                "\xfd"
                "7zXZ"))
    return Compression::xz;
  if (has_magic(data, std::string_view("\x5d\x00\x00", 3))) return Compression::lzma;
  if (has_magic(data, "\x28\xb5\x2f\xfd")) return Compression::zstd;
  if (has_magic(data, "\x02\x21\x4c\x18")) return Compression::lz4_legacy;
  return std::nullopt;
}

std::string decompress(Compression kind, std::string_view in, size_t limit, std::string_view what) {
  switch (kind) {
    case Compression::gzip:
      return gunzip(in, limit, what);
    case Compression::xz:
      return unxz(in, false, limit, what);
    case Compression::lzma:
      return unxz(in, true, limit, what);
    case Compression::zstd:
      return unzstd(in, limit, what);
    case Compression::lz4_legacy:
      return unlz4_legacy(in, limit, what);
  }
  throw Error("unknown compression");
}

}  // namespace vmfix
