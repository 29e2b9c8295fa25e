// A small JSON reader for the records written inside `.cep` test declarations (proposed spec
// §10): every value with its byte offsets in the parsed text, so that lang/check_tests.cpp can
// put a caret under a bad member, and `cep test` (cli/test_compare.hpp) can compare expected
// records with the ones a run wrote. It reads RFC 8259 JSON; a record is at most kMaxDepth deep.
//
//   json::Value record;
//   json::ParseError error;
//   if (!json::parse(R"({"card":"c1","probes":3})", record, error)) {
//     // error.offset: the byte where it went wrong; error.message: "expected `:` after a key"
//   }
//   const json::Value *probes = record.find("probes"); // Kind::Number, integer, int_value 3
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::lang::json {

enum class Kind : std::uint8_t { Null, Bool, Number, String, Array, Object };

// "null", "a bool", "a number", "a string", "an array", "an object".
const char *kindName(Kind kind);

struct Member;

struct Value {
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;           // Number
  bool integer = false;        // Number written without fraction or exponent that fits int64
  std::int64_t int_value = 0;  // Number, when integer
  std::string text;            // String: unescaped; Number: as written
  std::vector<Value> items;    // Array
  std::vector<Member> members; // Object, in the order written (a repeated key: parse fails)
  std::uint32_t begin = 0;     // offsets of the value in the parsed text
  std::uint32_t end = 0;

  // The member named `key` of an object; null when absent or not an object.
  const Value *find(std::string_view key) const;
};

struct Member {
  std::string key;
  std::uint32_t key_begin = 0; // offsets of the key (with its quotes) in the parsed text
  std::uint32_t key_end = 0;
  Value value;
};

struct ParseError {
  std::size_t offset = 0;
  std::size_t end = 0; // the offending token's end (offset + 1 at least)
  std::string message;
};

constexpr std::size_t kMaxDepth = 64;

// Parses `text` as exactly one JSON value (whitespace around it allowed). False with `error` set
// on the first problem.
bool parse(std::string_view text, Value &out, ParseError &error);

// The value as compact JSON (members in order, strings escaped, numbers as written).
std::string toText(const Value &value);

} // namespace cep::lang::json
