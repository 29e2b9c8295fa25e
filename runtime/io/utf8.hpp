// UTF-8 validation for the writers (which must never emit invalid JSON text) and for precise
// rejection reasons.
#pragma once

#include <cstddef>
#include <string_view>

namespace cep::runtime {

// Length in bytes of the valid UTF-8 sequence starting at `text[0]` (1-4), or 0 when the bytes
// there are not one (a stray continuation byte, an overlong form, a surrogate, a value above
// U+10FFFF, or a truncated sequence). `text` must not be empty.
std::size_t utf8SequenceLength(std::string_view text);

// Offset of the first byte that does not start a valid UTF-8 sequence; text.size() when all of
// `text` is valid.
std::size_t utf8ValidPrefix(std::string_view text);

} // namespace cep::runtime
