#pragma once
// Fixed-width integers in byte buffers, as on-disk formats store them. Reads past the end of
// the buffer give 0: callers check sizes where a short buffer means damage.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vmfix {

inline uint32_t le32(std::string_view bytes, size_t at) {
  uint32_t value = 0;
  if (at + 4 <= bytes.size()) std::memcpy(&value, bytes.data() + at, 4);
  return value;
}

inline uint64_t le64(std::string_view bytes, size_t at) {
  uint64_t value = 0;
  if (at + 8 <= bytes.size()) std::memcpy(&value, bytes.data() + at, 8);
  return value;
}

inline uint32_t be32(std::string_view bytes, size_t at) {
  uint32_t value = 0;
  if (at + 4 <= bytes.size())
    for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

inline uint64_t be64(std::string_view bytes, size_t at) {
  return (uint64_t{be32(bytes, at)} << 32) | be32(bytes, at + 4);
}

inline void put_le16(std::string& bytes, size_t at, uint16_t value) { std::memcpy(bytes.data() + at, &value, 2); }
inline void put_le32(std::string& bytes, size_t at, uint32_t value) { std::memcpy(bytes.data() + at, &value, 4); }
inline void put_le64(std::string& bytes, size_t at, uint64_t value) { std::memcpy(bytes.data() + at, &value, 8); }

}  // namespace vmfix
