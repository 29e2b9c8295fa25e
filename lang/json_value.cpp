#include "lang/json_value.hpp"

#include "lang/diagnostics.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace cep::lang::json {

const char *kindName(Kind kind) {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "a bool";
  case Kind::Number:
    return "a number";
  case Kind::String:
    return "a string";
  case Kind::Array:
    return "an array";
  case Kind::Object:
    return "an object";
  }
  return "null";
}

const Value *Value::find(std::string_view key) const {
  if (kind != Kind::Object) {
    return nullptr;
  }
  for (const Member &m : members) {
    if (m.key == key) {
      return &m.value;
    }
  }
  return nullptr;
}

namespace {

class Reader {
public:
  Reader(std::string_view text, ParseError &error) : text_(text), error_(error) {}

  bool document(Value &out) {
    skipSpace();
    if (!value(out, 0)) {
      return false;
    }
    skipSpace();
    if (pos_ < text_.size()) {
      return fail("unexpected text after the JSON value");
    }
    return true;
  }

private:
  bool fail(std::string message, std::size_t length = 1) {
    error_.offset = std::min(pos_, text_.size());
    error_.end = std::min(error_.offset + length, text_.size());
    if (error_.end == error_.offset && error_.offset > 0) {
      --error_.offset; // at the end of the text: point at its last character
    }
    error_.message = std::move(message);
    return false;
  }

  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  bool value(Value &out, std::size_t depth) {
    if (depth > kMaxDepth) {
      return fail("nested too deeply (at most " + std::to_string(kMaxDepth) + " levels)");
    }
    out.begin = static_cast<std::uint32_t>(pos_);
    if (pos_ >= text_.size()) {
      return fail("expected a JSON value");
    }
    char c = text_[pos_];
    bool ok = true;
    if (c == '{') {
      ok = object(out, depth);
    } else if (c == '[') {
      ok = array(out, depth);
    } else if (c == '"') {
      out.kind = Kind::String;
      ok = string(out.text);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      ok = number(out);
    } else if (literal("true")) {
      out.kind = Kind::Bool;
      out.boolean = true;
    } else if (literal("false")) {
      out.kind = Kind::Bool;
    } else if (literal("null")) {
      out.kind = Kind::Null;
    } else if (c == '\'') {
      return fail("strings are written in double quotes in JSON: \"...\"");
    } else {
      return fail("expected a JSON value (an object, array, string, number, true, false or "
                  "null)");
    }
    out.end = static_cast<std::uint32_t>(pos_);
    return ok;
  }

  bool object(Value &out, std::size_t depth) {
    out.kind = Kind::Object;
    ++pos_;
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return fail(pos_ < text_.size() && text_[pos_] != '}'
                        ? "expected a member name in double quotes"
                        : "expected a member name in double quotes (no `,` before `}` in JSON)");
      }
      Member member;
      member.key_begin = static_cast<std::uint32_t>(pos_);
      if (!string(member.key)) {
        return false;
      }
      member.key_end = static_cast<std::uint32_t>(pos_);
      for (const Member &other : out.members) {
        if (other.key == member.key) {
          pos_ = member.key_begin;
          return fail("member \"" + member.key + "\" is given twice",
                      member.key_end - member.key_begin);
        }
      }
      skipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') {
        return fail("expected `:` after the member name");
      }
      ++pos_;
      skipSpace();
      if (!value(member.value, depth + 1)) {
        return false;
      }
      out.members.push_back(std::move(member));
      skipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        skipSpace();
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("expected `,` or `}` after the member's value");
    }
  }

  bool array(Value &out, std::size_t depth) {
    out.kind = Kind::Array;
    ++pos_;
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      out.items.emplace_back();
      if (!value(out.items.back(), depth + 1)) {
        return false;
      }
      skipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        skipSpace();
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("expected `,` or `]` in the array");
    }
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  bool hex4(std::uint32_t &cp) {
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      if (pos_ >= text_.size() || hex(text_[pos_]) < 0) {
        return fail("expected 4 hex digits after `\\u`");
      }
      cp = cp * 16 + static_cast<std::uint32_t>(hex(text_[pos_++]));
    }
    return true;
  }

  static void appendUtf8(std::string &out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool string(std::string &out) {
    ++pos_; // the opening quote
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n' || text_[pos_] == '\r') {
        return fail("unterminated string");
      }
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return fail("a control character in a string must be escaped (\\t, \\u0001)");
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      char e = pos_ < text_.size() ? text_[pos_] : '\0';
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        ++pos_;
        std::uint32_t cp = 0;
        if (!hex4(cp)) {
          return false;
        }
        if (cp >= 0xD800 && cp < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
          std::size_t save = pos_;
          pos_ += 2;
          std::uint32_t low = 0;
          if (hex4(low) && low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else {
            pos_ = save;
          }
        }
        appendUtf8(out, cp);
        continue;
      }
      default:
        --pos_;
        return fail(
            "unknown escape in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", 2);
      }
      ++pos_;
    }
  }

  bool number(Value &out) {
    out.kind = Kind::Number;
    std::size_t start = pos_;
    auto digits = [&] {
      std::size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        ++pos_;
      }
      return pos_ - from;
    };
    if (text_[pos_] == '-') {
      ++pos_;
    }
    std::size_t int_start = pos_;
    std::size_t n = digits();
    if (n == 0) {
      return fail("expected digits in the number");
    }
    if (n > 1 && text_[int_start] == '0') {
      pos_ = int_start;
      return fail("a JSON number has no leading zeros", n);
    }
    bool integer = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      integer = false;
      if (digits() == 0) {
        return fail("expected digits after the decimal point");
      }
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      integer = false;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        ++pos_;
      }
      if (digits() == 0) {
        return fail("expected digits in the exponent");
      }
    }
    if (pos_ < text_.size() && (std::isalpha(static_cast<unsigned char>(text_[pos_])) != 0)) {
      return fail("unexpected letter after a number (a duration is written in milliseconds "
                  "in JSON)");
    }
    out.text = std::string(text_.substr(start, pos_ - start));
    out.number = std::strtod(out.text.c_str(), nullptr);
    if (integer) {
      const char *first = out.text.data();
      auto [ptr, ec] = std::from_chars(first, first + out.text.size(), out.int_value);
      out.integer = ec == std::errc() && ptr == first + out.text.size();
    }
    return true;
  }

  std::string_view text_;
  ParseError &error_;
  std::size_t pos_ = 0;
};

void write(const Value &v, std::string &out) {
  switch (v.kind) {
  case Kind::Null:
    out += "null";
    break;
  case Kind::Bool:
    out += v.boolean ? "true" : "false";
    break;
  case Kind::Number:
    out += v.text;
    break;
  case Kind::String:
    out += '"' + jsonEscape(v.text) + '"';
    break;
  case Kind::Array:
    out += '[';
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      write(v.items[i], out);
    }
    out += ']';
    break;
  case Kind::Object:
    out += '{';
    for (std::size_t i = 0; i < v.members.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      out += '"' + jsonEscape(v.members[i].key) + "\":";
      write(v.members[i].value, out);
    }
    out += '}';
    break;
  }
}

} // namespace

bool parse(std::string_view text, Value &out, ParseError &error) {
  out = Value();
  return Reader(text, error).document(out);
}

std::string toText(const Value &value) {
  std::string out;
  write(value, out);
  return out;
}

} // namespace cep::lang::json
