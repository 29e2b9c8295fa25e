#include "runtime/io/utf8.hpp"

namespace cep::runtime {

namespace {

bool isContinuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

} // namespace

std::size_t utf8SequenceLength(std::string_view text) {
  auto at = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = at(0);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = 0;
  unsigned char min_second = 0x80, max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) {
      min_second = 0xA0; // no overlong forms
    } else if (lead == 0xED) {
      max_second = 0x9F; // no surrogates
    }
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) {
      min_second = 0x90; // no overlong forms
    } else if (lead == 0xF4) {
      max_second = 0x8F; // nothing above U+10FFFF
    }
  } else {
    return 0;
  }
  if (text.size() < length || at(1) < min_second || at(1) > max_second) {
    return 0;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if (!isContinuation(at(i))) {
      return 0;
    }
  }
  return length;
}

std::size_t utf8ValidPrefix(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    std::size_t length = utf8SequenceLength(text.substr(pos));
    if (length == 0) {
      return pos;
    }
    pos += length;
  }
  return pos;
}

} // namespace cep::runtime
