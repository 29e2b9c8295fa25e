#include "runtime/io/json_writer.hpp"

#include "runtime/io/utf8.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>

namespace cep::runtime {

namespace {

// Bytes that need more than a plain copy: control characters, '"', '\\', and non-ASCII (which
// is validated).
constexpr std::array<bool, 256> makeSpecialTable() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  }
  return table;
}
constexpr std::array<bool, 256> kSpecial = makeSpecialTable();

} // namespace

void appendJsonString(std::string &out, std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t pos = 0;
  const std::size_t size = text.size();
  while (pos < size) {
    std::size_t run = pos;
    while (run < size && !kSpecial[static_cast<unsigned char>(text[run])]) {
      ++run;
    }
    out.append(text.data() + pos, run - pos);
    pos = run;
    if (pos == size) {
      break;
    }
    auto c = static_cast<unsigned char>(text[pos]);
    if (c >= 0x80) {
      std::size_t length = utf8SequenceLength(text.substr(pos));
      if (length == 0) {
        out.append("\xEF\xBF\xBD"); // U+FFFD REPLACEMENT CHARACTER
        ++pos;
      } else {
        out.append(text.data() + pos, length);
        pos += length;
      }
      continue;
    }
    switch (c) {
    case '"':
      out.append("\\\"");
      break;
    case '\\':
      out.append("\\\\");
      break;
    case '\b':
      out.append("\\b");
      break;
    case '\f':
      out.append("\\f");
      break;
    case '\n':
      out.append("\\n");
      break;
    case '\r':
      out.append("\\r");
      break;
    case '\t':
      out.append("\\t");
      break;
    default: {
      char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(escape, sizeof escape);
    }
    }
    ++pos;
  }
  out.push_back('"');
}

void appendJsonValue(std::string &out, std::string_view json) {
  auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20; };
  if (std::none_of(json.begin(), json.end(), control)) {
    out.append(json); // the usual record
    return;
  }
  static const char kHex[] = "0123456789abcdef";
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (control(c)) {
      if (in_string) {
        auto u = static_cast<unsigned char>(c);
        char escape[6] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 15]};
        out.append(escape, sizeof escape);
      } else {
        out.push_back(' ');
      }
      continue;
    }
    out.push_back(c);
    if (c == '"') {
      in_string = !in_string;
    } else if (c == '\\' && in_string && i + 1 < json.size()) {
      out.push_back(json[++i]); // the escaped character, never a control one in valid JSON
    }
  }
}

void appendJsonInt(std::string &out, std::int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// ECMAScript's Number::toString layout over the shortest round-trip digits, plus `.0` when the
// result would read as an integer (docs/semantics.md §7): 500.0, 0.1, 100000.0, 1e+21, 1.5e-7.
void appendJsonFloat(std::string &out, double value) {
  if (!std::isfinite(value)) {
    out.append("null"); // JSON has no NaN or infinity
    return;
  }
  if (std::signbit(value)) {
    out.push_back('-');
    value = -value;
  }
  char buffer[40];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  // buffer: d[.ddd]e(+|-)xx
  std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
  std::size_t e_pos = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e_pos)) {
    if (c != '.') {
      digits.push_back(c);
    }
  }
  int exponent = 0;
  std::from_chars(text.data() + e_pos + (text[e_pos + 1] == '+' ? 2 : 1), text.data() + text.size(),
                  exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1; // the decimal point sits after n digits
  if (k <= n && n <= 21) {
    out.append(digits);
    out.append(static_cast<std::size_t>(n - k), '0');
    out.append(".0");
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(digits);
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out.append(std::to_string(n - 1 >= 0 ? n - 1 : 1 - n));
  }
}

void appendJsonTime(std::string &out, std::int64_t epoch_ms) {
  char buffer[kMaxRfc3339Chars];
  std::size_t length = formatRfc3339(epoch_ms, buffer);
  out.push_back('"');
  out.append(buffer, length);
  out.push_back('"');
}

void JsonWriter::beforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_members_.empty()) {
    if (has_members_.back()) {
      out_->push_back(',');
    }
    has_members_.back() = true;
  }
}

void JsonWriter::beginObject() {
  beforeValue();
  out_->push_back('{');
  has_members_.push_back(false);
}

void JsonWriter::endObject() {
  assert(!has_members_.empty() && !after_key_);
  has_members_.pop_back();
  out_->push_back('}');
}

void JsonWriter::beginArray() {
  beforeValue();
  out_->push_back('[');
  has_members_.push_back(false);
}

void JsonWriter::endArray() {
  assert(!has_members_.empty() && !after_key_);
  has_members_.pop_back();
  out_->push_back(']');
}

void JsonWriter::key(std::string_view name) {
  assert(!has_members_.empty() && !after_key_);
  if (has_members_.back()) {
    out_->push_back(',');
  }
  has_members_.back() = true;
  appendJsonString(*out_, name);
  out_->push_back(':');
  after_key_ = true;
}

void JsonWriter::writeString(std::string_view value) {
  beforeValue();
  appendJsonString(*out_, value);
}

void JsonWriter::writeInt(std::int64_t value) {
  beforeValue();
  appendJsonInt(*out_, value);
}

void JsonWriter::writeFloat(double value) {
  beforeValue();
  appendJsonFloat(*out_, value);
}

void JsonWriter::writeBool(bool value) {
  beforeValue();
  out_->append(value ? "true" : "false");
}

void JsonWriter::writeNull() {
  beforeValue();
  out_->append("null");
}

void JsonWriter::writeTime(std::int64_t epoch_ms) {
  beforeValue();
  appendJsonTime(*out_, epoch_ms);
}

void JsonWriter::writeRaw(std::string_view json) {
  beforeValue();
  appendJsonValue(*out_, json);
}

void JsonWriter::endLine() {
  assert(has_members_.empty() && !after_key_);
  out_->push_back('\n');
}

} // namespace cep::runtime
