#include "runtime/io/json_writer.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

using namespace cep::runtime;

namespace {

std::string jsonString(std::string_view text) {
  std::string out;
  appendJsonString(out, text);
  return out;
}

std::string jsonFloat(double value) {
  std::string out;
  appendJsonFloat(out, value);
  return out;
}

} // namespace

TEST_CASE("json writer: a match record", "[runtime][json_writer]") {
  std::string out;
  JsonWriter json(out);
  json.beginObject();
  json.key("@stream");
  json.writeString("CardTesting");
  json.key("@key");
  json.beginArray();
  json.writeString("4111");
  json.writeInt(-42);
  json.endArray();
  json.key("@start");
  json.writeTime(1767607200000);
  json.key("@timeout");
  json.writeBool(true);
  json.key("amount");
  json.writeFloat(500.0);
  json.key("merchant");
  json.writeNull();
  json.key("@events");
  json.beginObject();
  json.key("small");
  json.beginArray();
  json.writeRaw(R"({"@type":"Payment","amount":0.5})");
  json.writeRaw(R"({"@type":"Payment","amount":0.7})");
  json.endArray();
  json.key("big");
  json.beginArray();
  json.endArray();
  json.endObject();
  json.key("empty");
  json.beginObject();
  json.endObject();
  json.endObject();
  json.endLine();
  CHECK(json.depth() == 0);
  CHECK(out ==
        R"({"@stream":"CardTesting","@key":["4111",-42],"@start":"2026-01-05T10:00:00.000Z",)"
        R"("@timeout":true,"amount":500.0,"merchant":null,"@events":{"small":[)"
        R"({"@type":"Payment","amount":0.5},{"@type":"Payment","amount":0.7}],"big":[]},)"
        R"("empty":{}})"
        "\n");
  // The writer appends: a second record follows on its own line.
  json.beginArray();
  json.writeBool(false);
  json.beginArray();
  json.endArray();
  json.writeInt(std::numeric_limits<std::int64_t>::min());
  json.endArray();
  json.endLine();
  CHECK(out.substr(out.find('\n') + 1) == "[false,[],-9223372036854775808]\n");
}

TEST_CASE("json writer: string escaping", "[runtime][json_writer]") {
  CHECK(jsonString("plain") == R"("plain")");
  CHECK(jsonString("") == R"("")");
  CHECK(jsonString("a\"b\\c/d") == R"("a\"b\\c/d")");
  CHECK(jsonString("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  CHECK(jsonString(std::string("\0\x01\x1f\x7f", 4)) == "\"\\u0000\\u0001\\u001f\x7f\"");
  CHECK(jsonString("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  CHECK(jsonString("\xE2\x80\xA8") == "\"\xE2\x80\xA8\""); // U+2028 is valid JSON text
  // Invalid UTF-8 becomes U+FFFD, one per bad byte, so the output is always valid JSON.
  CHECK(jsonString("a\xFF"
                   "b") == "\"a\xEF\xBF\xBD"
                           "b\"");
  CHECK(jsonString("\xC3") == "\"\xEF\xBF\xBD\"");                                 // truncated
  CHECK(jsonString("\xC0\xAF") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                 // overlong
  CHECK(jsonString("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""); // surrogate
  CHECK(jsonString("\xF4\x90\x80\x80") ==
        "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");   // above U+10FFFF
  CHECK(jsonString("\xF4\x8F\xBF\xBF") == "\"\xF4\x8F\xBF\xBF\""); // U+10FFFF itself
  std::string keys;
  JsonWriter json(keys);
  json.beginObject();
  json.key("we\"ird\n");
  json.writeInt(1);
  json.endObject();
  CHECK(keys == R"({"we\"ird\n":1})");
}

TEST_CASE("json writer: doubles round-trip and read as floats", "[runtime][json_writer]") {
  CHECK(jsonFloat(500.0) == "500.0");
  CHECK(jsonFloat(0.0) == "0.0");
  CHECK(jsonFloat(-0.0) == "-0.0");
  CHECK(jsonFloat(1.5) == "1.5");
  CHECK(jsonFloat(0.1) == "0.1");
  CHECK(jsonFloat(-2.25) == "-2.25");
  CHECK(jsonFloat(1e21) == "1e+21");
  CHECK(jsonFloat(1e-7) == "1e-7"); // ECMAScript layout (docs/semantics.md §7)
  CHECK(jsonFloat(1.5e-7) == "1.5e-7");
  CHECK(jsonFloat(0.000001) == "0.000001");
  CHECK(jsonFloat(100000.0) == "100000.0");
  CHECK(jsonFloat(1e20) == "100000000000000000000.0");
  CHECK(jsonFloat(123.456e25) == "1.23456e+27");
  CHECK(jsonFloat(123456789012.0) == "123456789012.0");
  CHECK(jsonFloat(0.1 + 0.2) == "0.30000000000000004");
  CHECK(jsonFloat(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
  CHECK(jsonFloat(std::numeric_limits<double>::denorm_min()) == "5e-324");
  CHECK(jsonFloat(std::nan("")) == "null");
  CHECK(jsonFloat(std::numeric_limits<double>::infinity()) == "null");
  CHECK(jsonFloat(-std::numeric_limits<double>::infinity()) == "null");
}

TEST_CASE("json writer: integers and times", "[runtime][json_writer]") {
  std::string out;
  appendJsonInt(out, 0);
  out += ' ';
  appendJsonInt(out, std::numeric_limits<std::int64_t>::max());
  out += ' ';
  appendJsonTime(out, -1);
  out += ' ';
  appendJsonTime(out, 253402300800000);
  CHECK(out == R"(0 9223372036854775807 "1969-12-31T23:59:59.999Z" "+010000-01-01T00:00:00.000Z")");
}

TEST_CASE("json writer: an embedded record keeps no control character", "[runtime][json_writer]") {
  auto value = [](std::string_view json) {
    std::string out;
    appendJsonValue(out, json);
    return out;
  };
  CHECK(value(R"({"a":1,"b":"x\"y"})") == R"({"a":1,"b":"x\"y"})"); // unchanged
  // CR, tab and LF between tokens are JSON whitespace: spaces in the output.
  CHECK(value("{\"a\":1,\r\"b\":\t2\n}") == "{\"a\":1, \"b\": 2 }");
  // Strings are not touched, escapes included; a raw control character in one is escaped.
  CHECK(value("{\"a\":\"\\\\\",\r\"b\":\"\\\"\r\"}") == "{\"a\":\"\\\\\", \"b\":\"\\\"\\u000d\"}");
  std::string out;
  JsonWriter w(out);
  w.beginArray();
  w.writeRaw("{\"a\":\r1}");
  w.endArray();
  CHECK(out == "[{\"a\": 1}]");
}
