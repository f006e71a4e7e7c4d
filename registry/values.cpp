#include "registry/values.h"

#include <cstring>

namespace vmfix::registry {

namespace {

void append_utf16(std::string& out, uint32_t unit) {
  out += static_cast<char>(unit & 0xff);
  out += static_cast<char>((unit >> 8) & 0xff);
}

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xe0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}

// Decodes UTF-16LE units from `bytes` starting at `at` until a NUL unit or the end; returns the
// position after the NUL.
size_t decode_utf16(std::string_view bytes, size_t at, std::string& out) {
  auto unit = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i]) |
                                 (static_cast<unsigned char>(bytes[i + 1]) << 8));
  };
  while (at + 1 < bytes.size()) {
    uint32_t code = unit(at);
    at += 2;
    if (code == 0) break;
    if (code >= 0xd800 && code < 0xdc00 && at + 1 < bytes.size()) {
      uint32_t low = unit(at);
      if (low >= 0xdc00 && low < 0xe000) {
        at += 2;
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      } else {
        code = 0xfffd;
      }
    } else if (code >= 0xd800 && code < 0xe000) {
      code = 0xfffd;
    }
    append_utf8(out, code);
  }
  return at;
}

}  // namespace

std::string utf8_to_utf16le(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    uint32_t code;
    size_t length;
    if (c < 0x80) {
      code = c;
      length = 1;
    } else if ((c >> 5) == 6) {
      code = c & 0x1f;
      length = 2;
    } else if ((c >> 4) == 14) {
      code = c & 0x0f;
      length = 3;
    } else if ((c >> 3) == 30) {
      code = c & 0x07;
      length = 4;
    } else {
      code = 0xfffd;
      length = 1;
    }
    if (i + length > text.size()) {
      code = 0xfffd;
      length = text.size() - i;
    } else
      for (size_t k = 1; k < length; ++k) code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
    i += length;
    if (code >= 0x10000) {
      code -= 0x10000;
      append_utf16(out, 0xd800 + (code >> 10));
      append_utf16(out, 0xdc00 + (code & 0x3ff));
    } else {
      append_utf16(out, code);
    }
  }
  return out;
}

std::string utf16le_to_utf8(std::string_view bytes) {
  std::string out;
  decode_utf16(bytes, 0, out);
  return out;
}

Value make_dword(std::string name, uint32_t number) {
  std::string data(4, '\0');
  for (int i = 0; i < 4; ++i) data[i] = static_cast<char>((number >> (8 * i)) & 0xff);
  return Value{std::move(name), kRegDword, std::move(data)};
}

Value make_qword(std::string name, uint64_t number) {
  std::string data(8, '\0');
  for (int i = 0; i < 8; ++i) data[i] = static_cast<char>((number >> (8 * i)) & 0xff);
  return Value{std::move(name), kRegQword, std::move(data)};
}

Value make_string(std::string name, std::string_view text, uint32_t type) {
  return Value{std::move(name), type, utf8_to_utf16le(text) + std::string(2, '\0')};
}

Value make_multi_string(std::string name, const std::vector<std::string>& items) {
  std::string data;
  for (const std::string& item : items) data += utf8_to_utf16le(item) + std::string(2, '\0');
  data += std::string(2, '\0');
  return Value{std::move(name), kRegMultiSz, std::move(data)};
}

Value make_binary(std::string name, std::string bytes, uint32_t type) {
  return Value{std::move(name), type, std::move(bytes)};
}

std::optional<uint32_t> as_dword(const Value& value) {
  if (value.data.size() < 4) return std::nullopt;
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(value.data[i])); };
  if (value.type == kRegDword) return byte(0) | byte(1) << 8 | byte(2) << 16 | byte(3) << 24;
  if (value.type == kRegDwordBigEndian) return byte(3) | byte(2) << 8 | byte(1) << 16 | byte(0) << 24;
  return std::nullopt;
}

std::optional<uint64_t> as_qword(const Value& value) {
  if (value.type != kRegQword || value.data.size() < 8) return std::nullopt;
  uint64_t number = 0;
  for (int i = 7; i >= 0; --i) number = (number << 8) | static_cast<unsigned char>(value.data[i]);
  return number;
}

std::optional<std::string> as_string(const Value& value) {
  if (value.type != kRegSz && value.type != kRegExpandSz && value.type != kRegLink) return std::nullopt;
  return utf16le_to_utf8(value.data);
}

std::vector<std::string> as_multi_string(const Value& value) {
  std::vector<std::string> items;
  if (value.type != kRegMultiSz) return items;
  size_t at = 0;
  while (at + 1 < value.data.size()) {
    std::string item;
    at = decode_utf16(value.data, at, item);
    if (item.empty()) break;  // the empty string ends the list
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace vmfix::registry
