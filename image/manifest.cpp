#include "image/manifest.h"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <memory>

#include "support/error.h"
#include "support/text.h"

namespace vmfix::image {

std::vector<ManifestEntry> parse_manifest(std::string_view text, const std::string& where) {
  std::vector<ManifestEntry> entries;
  size_t line_number = 0;
  for (std::string_view line : split_lines(text)) {
    ++line_number;
    line = trim(line);
    if (line.empty()) continue;
    size_t open = line.find('('), close = line.rfind(')'), equals = line.rfind('=');
    if (open == std::string_view::npos || close == std::string_view::npos || equals == std::string_view::npos ||
        !(open < close && close < equals))
      throw BadInput(fmt::format("{}: manifest line {} is not ALGORITHM(file)= digest", where, line_number));
    ManifestEntry entry{std::string(trim(line.substr(0, open))), std::string(line.substr(open + 1, close - open - 1)),
                        to_lower(trim(line.substr(equals + 1)))};
    entry.algorithm = [&] {
      std::string upper;
      for (char c : entry.algorithm) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return upper;
    }();
    if (entry.algorithm != "SHA1" && entry.algorithm != "SHA256" && entry.algorithm != "SHA512")
      throw BadInput(
          fmt::format("{}: manifest line {} uses {}, not SHA1, SHA256 or SHA512", where, line_number, entry.algorithm));
    entries.push_back(std::move(entry));
  }
  return entries;
}

namespace {

class Digest {
 public:
  explicit Digest(const std::string& algorithm) : context_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    const EVP_MD* md = algorithm == "SHA1" ? EVP_sha1() : algorithm == "SHA256" ? EVP_sha256() : EVP_sha512();
    if (!context_ || EVP_DigestInit_ex(context_.get(), md, nullptr) != 1) throw Error("cannot start a digest");
  }
  void add(std::string_view bytes) { EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size()); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context_.get(), digest, &length);
    std::string text;
    for (unsigned int i = 0; i < length; ++i) text += fmt::format("{:02x}", digest[i]);
    return text;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context_;
};

}  // namespace

std::string digest_of(const ByteSource& bytes, const std::string& algorithm) {
  Digest digest(algorithm);
  constexpr size_t kChunk = 4 << 20;
  for (uint64_t at = 0; at < bytes.size; at += kChunk) {
    std::string chunk = bytes.read(at, kChunk);
    if (chunk.empty()) throw BadInput(fmt::format("{}: shorter than expected", bytes.name));
    digest.add(chunk);
  }
  return digest.hex();
}

std::string digest_of(std::string_view bytes, const std::string& algorithm) {
  Digest digest(algorithm);
  digest.add(bytes);
  return digest.hex();
}

}  // namespace vmfix::image
