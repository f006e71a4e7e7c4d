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
      throw BadInput(fmt::format("{}: manifest line {} uses {}, not SHA1, SHA256 or SHA512", where, line_number,
                                 entry.algorithm));
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string digest_of(const ByteSource& bytes, const std::string& algorithm) {
  const EVP_MD* md = algorithm == "SHA1" ? EVP_sha1() : algorithm == "SHA256" ? EVP_sha256() : EVP_sha512();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), md, nullptr) != 1) throw Error("cannot start a digest");
  constexpr size_t kChunk = 4 << 20;
  for (uint64_t at = 0; at < bytes.size; at += kChunk) {
    std::string chunk = bytes.read(at, kChunk);
    if (chunk.empty()) throw BadInput(fmt::format("{}: shorter than expected", bytes.name));
    EVP_DigestUpdate(context.get(), chunk.data(), chunk.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace vmfix::image
