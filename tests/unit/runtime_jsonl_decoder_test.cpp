#include "runtime/io/jsonl_decoder.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

using namespace cep::runtime;

namespace {

FieldSchema field(const char *name, FieldKind kind, bool nullable = false) {
  return FieldSchema{name, kind, nullable};
}

// Payment: every kind but bool/duration, a time field. Login: the rest, a nullable time field.
// Ping: no time field.
Schema testSchema() {
  Schema schema;
  EventSchema payment{"Payment",
                      {field("card", FieldKind::String), field("amount", FieldKind::Float),
                       field("country", FieldKind::String),
                       field("merchant", FieldKind::String, true), field("ts", FieldKind::Time)},
                      4};
  EventSchema login{"Login",
                    {field("user", FieldKind::String), field("new_device", FieldKind::Bool),
                     field("lat", FieldKind::Float, true), field("attempts", FieldKind::Int),
                     field("session", FieldKind::Duration, true),
                     field("ts", FieldKind::Time, true)},
                    5};
  EventSchema ping{"Ping", {field("id", FieldKind::Int)}, -1};
  schema.types = {payment, login, ping};
  return schema;
}

Schema singleTypeSchema() {
  Schema schema;
  schema.types.push_back(EventSchema{
      "Reading", {field("sensor", FieldKind::String), field("value", FieldKind::Float)}, -1});
  return schema;
}

std::string str(const Event &event, std::uint32_t index) {
  REQUIRE_FALSE(event.isNull(index));
  return std::string(event.slots()[index].s->view());
}

EventRef accepted(JsonlDecoder &decoder, const std::string &text, RecordContext context = {}) {
  DecodeResult result = decoder.decodeCopy(text, context);
  INFO(text);
  INFO(std::string(result.reason));
  REQUIRE(result.status == DecodeStatus::Event);
  REQUIRE(result.event);
  return result.event;
}

std::string rejected(JsonlDecoder &decoder, const std::string &text, RecordContext context = {}) {
  DecodeResult result = decoder.decodeCopy(text, context);
  INFO(text);
  REQUIRE(result.status == DecodeStatus::Rejected);
  REQUIRE_FALSE(result.event);
  return std::string(result.reason);
}

const char *kPayment = R"({"@type":"Payment","card":"4111","amount":12.5,"country":"NG",)"
                       R"("merchant":"ACME","ts":1767607200000})";

} // namespace

TEST_CASE("decoder: a complete record becomes one event", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  RecordContext context;
  context.input = 2;
  context.line = 17;
  context.seq = 99;
  context.ingestion_time = 5;
  EventRef event = accepted(decoder, kPayment, context);
  CHECK(event->type == 0);
  CHECK(event->field_count == 5);
  CHECK(str(*event, 0) == "4111");
  CHECK(event->slots()[1].f == 12.5);
  CHECK(str(*event, 2) == "NG");
  CHECK(str(*event, 3) == "ACME");
  CHECK(event->slots()[4].i == 1767607200000);
  CHECK(event->nulls == 0);
  CHECK(event->time == 1767607200000);
  CHECK(event->seq == 99);
  CHECK(event->input == 2);
  CHECK(event->line == 17);
  CHECK(event->raw_size == 0);
  CHECK(event->rawRecord().empty());
  CHECK(event->refs == 1);
}

TEST_CASE("decoder: keep_raw keeps the record exactly as read", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema, DecoderOptions{true});
  std::string text = std::string("  ") + kPayment + " ";
  EventRef event = accepted(decoder, text);
  CHECK(event->rawRecord() == text);
  CHECK(str(*event, 3) == "ACME"); // strings and the raw record share the block
}

TEST_CASE("decoder: member order, extra members, duplicates", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  // Any order, extra members of every shape ignored.
  EventRef a = accepted(
      decoder, R"({"ts":"2026-01-05T10:00:00.123Z","extra":{"deep":[1,{"x":null}],"e":"\n"},)"
               R"("amount":3,"card":"c","country":"DE","@type":"Payment","more":[true,false],)"
               R"("n":-1.5e-3})");
  CHECK(a->time == 1767607200123);
  CHECK(a->slots()[1].f == 3.0);
  CHECK(a->isNull(3));
  CHECK(a->nulls == 0b01000);
  // The previous record's order is the prediction; a different order must still be exact.
  EventRef b = accepted(decoder, R"({"@type":"Payment","card":"x","country":"FR","amount":1.25,)"
                                 R"("ts":7,"merchant":null})");
  CHECK(str(*b, 0) == "x");
  CHECK(str(*b, 2) == "FR");
  CHECK(b->slots()[1].f == 1.25);
  CHECK(b->time == 7);
  // A key that is a prefix or an extension of a predicted one.
  EventRef c = accepted(decoder, R"({"@type":"Payment","cardx":"no","card":"y","country":"FR",)"
                                 R"("amount":1,"ts":8,"ts2":9})");
  CHECK(str(*c, 0) == "y");
  CHECK(c->time == 8);
  // Escaped member names are matched by their unescaped text.
  EventRef e = accepted(decoder, R"({"@type":"Payment","c\u0061rd":"esc","country":"FR",)"
                                 R"("amount":1,"\u0074s":8})");
  CHECK(str(*e, 0) == "esc");
  CHECK(e->time == 8);
}

TEST_CASE("decoder: type selection", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  const std::string login = R"("user":"u","new_device":true,"attempts":3)";

  SECTION("@type names the type") {
    EventRef event = accepted(decoder, R"({"@type":"Login",)" + login + "}");
    CHECK(event->type == 1);
  }
  SECTION("an unknown @type is rejected") {
    CHECK(rejected(decoder, R"({"@type":"Paymnt","card":"x"})") == R"(unknown @type "Paymnt")");
  }
  SECTION("@type must be a string") {
    CHECK(rejected(decoder, R"({"@type":3,"card":"x"})") ==
          R"("@type": expected string, got int 3)");
    CHECK(rejected(decoder, R"({"@type":null})") == R"("@type": expected string, got null)");
  }
  SECTION("without @type, several declared types: rejected") {
    CHECK(rejected(decoder, "{" + login + "}") ==
          R"(missing "@type" (3 event types are declared))");
  }
  SECTION("an input bound to a type") {
    RecordContext bound;
    bound.bound_type = 1;
    CHECK(accepted(decoder, "{" + login + "}", bound)->type == 1);
    CHECK(accepted(decoder, R"({"@type":"Login",)" + login + "}", bound)->type == 1);
    CHECK(rejected(decoder, R"({"@type":"Payment",)" + login + "}", bound) ==
          R"(@type "Payment" does not match the input's type "Login")");
    CHECK(rejected(decoder, R"({"@type":"Nope",)" + login + "}", bound) ==
          R"(@type "Nope" does not match the input's type "Login")");
  }
  SECTION("a single declared type: @type may be omitted") {
    Schema single = singleTypeSchema();
    JsonlDecoder one(single);
    EventRef event = accepted(one, R"({"sensor":"s1","value":2})");
    CHECK(event->type == 0);
    CHECK(event->slots()[1].f == 2.0);
    CHECK(accepted(one, R"({"@type":"Reading","sensor":"s1","value":2})")->type == 0);
    CHECK(rejected(one, R"({"@type":"Other","sensor":"s1","value":2})") ==
          R"(unknown @type "Other")");
  }
  SECTION("no declared types: every event is rejected") {
    Schema empty;
    JsonlDecoder none(empty);
    CHECK(rejected(none, R"({"a":1})") == R"(missing "@type" (0 event types are declared))");
    CHECK(none.decodeCopy(R"({"@watermark":5})", {}).status == DecodeStatus::Watermark);
  }
}

TEST_CASE("decoder: event time", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  RecordContext context;
  context.ingestion_time = 424242;
  // No time field: the ingestion time.
  EventRef ping = accepted(decoder, R"({"@type":"Ping","id":1})", context);
  CHECK(ping->time == 424242);
  // A nullable time field that is null or absent: the ingestion time.
  const std::string login = R"({"@type":"Login","user":"u","new_device":false,"attempts":0)";
  CHECK(accepted(decoder, login + R"(,"ts":null})", context)->time == 424242);
  CHECK(accepted(decoder, login + "}", context)->time == 424242);
  CHECK(accepted(decoder, login + R"(,"ts":-5})", context)->time == -5);
  CHECK(accepted(decoder, login + R"(,"ts":"2026-01-05T12:00:00+02:00"})", context)->time ==
        1767607200000);
  CHECK(accepted(decoder, login + R"(,"ts":-9223372036854775808})", context)->time ==
        std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("decoder: field kinds and coercions", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  const std::string head = R"({"@type":"Login","user":"u",)";

  SECTION("bool, int, float from int, duration") {
    EventRef event = accepted(decoder, head + R"("new_device":true,"lat":-33,"attempts":-7,)"
                                              R"("session":90000})");
    CHECK(event->slots()[1].b);
    CHECK(event->slots()[2].f == -33.0);
    CHECK(event->slots()[3].i == -7);
    CHECK(event->slots()[4].i == 90000);
    CHECK(event->nulls == 0b100000);
  }
  SECTION("int64 extremes, floats beyond int64, exact doubles") {
    EventRef event = accepted(decoder, head + R"("new_device":false,)"
                                              R"("attempts":9223372036854775807,)"
                                              R"("lat":18446744073709551615})");
    CHECK(event->slots()[3].i == std::numeric_limits<std::int64_t>::max());
    CHECK(event->slots()[2].f == 18446744073709551615.0);
    EventRef big = accepted(decoder, head + R"("new_device":false,"attempts":0,)"
                                            R"("lat":-99999999999999999999999})");
    CHECK(big->slots()[2].f == -1e23);
    EventRef precise = accepted(decoder, head + R"("new_device":false,"attempts":0,)"
                                                R"("lat":0.1})");
    CHECK(precise->slots()[2].f == 0.1);
  }
  SECTION("nullable fields: absent and null are both null") {
    EventRef absent = accepted(decoder, head + R"("new_device":true,"attempts":1})");
    EventRef null = accepted(decoder, head + R"("new_device":true,"attempts":1,"lat":null,)"
                                             R"("session":null,"ts":null})");
    CHECK(absent->nulls == 0b110100);
    CHECK(null->nulls == 0b110100);
  }
  SECTION("strings: escapes decoded, UTF-8 kept") {
    Schema single = singleTypeSchema();
    JsonlDecoder one(single);
    auto sensor = [&](const std::string &json) {
      return str(*accepted(one, R"({"value":1,"sensor":)" + json + "}"), 0);
    };
    CHECK(sensor(R"("a\"b\\c\/d\b\f\n\r\t")") == "a\"b\\c/d\b\f\n\r\t");
    CHECK(sensor(R"("caf\u00e9")") == "caf\xC3\xA9");
    CHECK(sensor("\"caf\xC3\xA9\"") == "caf\xC3\xA9");
    CHECK(sensor(R"("\ud83d\ude00")") == "\xF0\x9F\x98\x80");
    CHECK(sensor(R"("\u20ac\u0000x")") == std::string("\xE2\x82\xAC\0x", 5));
    CHECK(sensor(R"("")").empty());
    std::string long_text(1000, 'z');
    CHECK(sensor("\"" + long_text + "\"") == long_text);
  }
}

TEST_CASE("decoder: several strings share the block, each aligned", "[runtime][decoder]") {
  Schema schema;
  schema.types.push_back(
      EventSchema{"S",
                  {field("a", FieldKind::String), field("b", FieldKind::String),
                   field("c", FieldKind::String, true), field("d", FieldKind::String)},
                  -1});
  JsonlDecoder decoder(schema, DecoderOptions{true});
  const std::string text = R"({"a":"","b":"xyz","d":"12345"})";
  EventRef event = accepted(decoder, text);
  CHECK(str(*event, 0).empty());
  CHECK(str(*event, 1) == "xyz");
  CHECK(event->isNull(2));
  CHECK(str(*event, 3) == "12345");
  for (std::uint32_t i : {0U, 1U, 3U}) {
    CHECK(reinterpret_cast<std::uintptr_t>(event->slots()[i].s) % alignof(StringRef) == 0);
  }
  CHECK(event->rawRecord() == text);
}

TEST_CASE("decoder: wrong types are rejected with the field and the value", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  const std::string pay = R"({"@type":"Payment","card":"c","country":"NG","ts":1,)";
  const std::string login = R"({"@type":"Login","user":"u","new_device":true,"attempts":1,)";

  CHECK(rejected(decoder, pay + R"("amount":"12.5"})") ==
        R"(field "amount": expected float, got string "12.5")");
  CHECK(rejected(decoder, pay + R"("amount":true})") ==
        R"(field "amount": expected float, got bool true)");
  CHECK(rejected(decoder, pay + R"("amount":[1]})") ==
        R"(field "amount": expected float, got array)");
  CHECK(rejected(decoder, pay + R"("amount":{"v":1}})") ==
        R"(field "amount": expected float, got object)");
  CHECK(rejected(decoder, pay + R"("amount":1e400})") ==
        R"(field "amount": number 1e400 out of range for float)");
  CHECK(rejected(decoder, R"({"@type":"Payment","country":"NG","ts":1,"amount":1,"card":5})") ==
        R"(field "card": expected string, got int 5)");
  CHECK(rejected(decoder, pay + R"("amount":1,"merchant":false})") ==
        R"(field "merchant": expected string, got bool false)");
  CHECK(rejected(decoder, login + R"("lat":"x"})") ==
        R"(field "lat": expected float, got string "x")");
  CHECK(rejected(decoder, R"({"@type":"Login","user":"u","new_device":1,"attempts":1})") ==
        R"(field "new_device": expected bool, got int 1)");
  CHECK(rejected(decoder, R"({"@type":"Login","user":"u","new_device":true,"attempts":1.0})") ==
        R"(field "attempts": expected int, got float 1.0)");
  CHECK(rejected(decoder, R"({"@type":"Login","user":"u","new_device":true,"attempts":1e2})") ==
        R"(field "attempts": expected int, got float 1e2)");
  CHECK(rejected(decoder, R"({"@type":"Login","user":"u","new_device":true,"attempts":"3"})") ==
        R"(field "attempts": expected int, got string "3")");
  CHECK(rejected(decoder, R"({"@type":"Login","user":"u","new_device":true,)"
                          R"("attempts":9223372036854775808})") ==
        R"(field "attempts": integer 9223372036854775808 out of range for int)");
  CHECK(rejected(decoder, R"({"@type":"Login","user":"u","new_device":true,)"
                          R"("attempts":-9223372036854775809})") ==
        R"(field "attempts": integer -9223372036854775809 out of range for int)");
  CHECK(rejected(decoder, login + R"("session":"10s"})") ==
        R"(field "session": expected duration (integer ms), got string "10s")");
  CHECK(rejected(decoder, login + R"("session":1.5})") ==
        R"(field "session": expected duration (integer ms), got float 1.5)");
  CHECK(rejected(decoder, login + R"("session":18446744073709551615})") ==
        R"(field "session": integer 18446744073709551615 out of range for duration)");
  CHECK(rejected(decoder, login + R"("ts":1.5})") ==
        R"(field "ts": expected time (epoch ms or RFC 3339 string), got float 1.5)");
  CHECK(rejected(decoder, login + R"("ts":true})") ==
        R"(field "ts": expected time (epoch ms or RFC 3339 string), got bool true)");
  CHECK(rejected(decoder, login + R"("ts":9223372036854775808})") ==
        R"(field "ts": integer 9223372036854775808 out of range for time)");
  CHECK(rejected(decoder, login + R"("ts":"2026-02-30T10:00:00Z"})") ==
        R"(field "ts": invalid time "2026-02-30T10:00:00Z": day 30 out of range for 2026-02)");
  CHECK(rejected(decoder, login + R"("ts":"yesterday"})") ==
        R"(field "ts": invalid time "yesterday": expected a 4-digit year at character 1, )"
        R"(found 'y')");
  // Long values are cut in the reason.
  std::string long_text(100, 'q');
  CHECK(rejected(decoder, pay + R"("amount":")" + long_text + "\"}") ==
        R"(field "amount": expected float, got string ")" + std::string(64, 'q') + "...\"");
  // Control characters in a quoted value stay escaped.
  CHECK(rejected(decoder, pay + R"("amount":"a\nb"})") ==
        R"(field "amount": expected float, got string "a\nb")");
}

TEST_CASE("decoder: missing and null required fields", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  CHECK(rejected(decoder, R"({"@type":"Payment","card":"c","country":"NG","ts":1})") ==
        R"(missing field "amount" (float))");
  CHECK(
      rejected(decoder, R"({"@type":"Payment","card":"c","amount":null,"country":"NG","ts":1})") ==
      R"(field "amount": expected float, got null)");
  CHECK(rejected(decoder, R"({"@type":"Payment","card":"c","amount":1,"country":"NG"})") ==
        R"(missing field "ts" (time))");
  // The first bad field in declaration order is reported.
  CHECK(rejected(decoder, R"({"@type":"Payment","ts":"x","amount":"y"})") ==
        R"(missing field "card" (string))");
  CHECK(rejected(decoder, R"({"@type":"Payment"})") == R"(missing field "card" (string))");
}

TEST_CASE("decoder: records that are not JSON objects", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  CHECK(rejected(decoder, "[1,2]") == "not a JSON object: got array");
  CHECK(rejected(decoder, "\"text\"") == "not a JSON object: got string");
  CHECK(rejected(decoder, "12") == "not a JSON object: got number");
  CHECK(rejected(decoder, "null") == "not a JSON object: got null");
  CHECK(rejected(decoder, "true") == "not a JSON object: got bool");
  CHECK(rejected(decoder, "1e400") == "not a JSON object: got number");
  // Not JSON at all, even when the first character looks like a value.
  CHECK(rejected(decoder, "this is not json") == R"(not JSON: invalid literal "this" at byte 1)");
  CHECK(rejected(decoder, "garbage") == R"(not JSON: unexpected "garbage" at byte 1)");
  CHECK(rejected(decoder, "}") == R"(not JSON: unexpected "}" at byte 1)");
  CHECK(rejected(decoder, "[1,,2]") == R"(not JSON: unexpected "," at byte 4)");
  CHECK(rejected(decoder, "01") == "not JSON: Problem while parsing a number at byte 1");
  CHECK(rejected(decoder, "true false") ==
        "not JSON: Unexpected trailing content in the JSON input");
  CHECK(rejected(decoder, "12 x") == "not JSON: Unexpected trailing content in the JSON input");
  CHECK(rejected(decoder, R"("str" 1)") ==
        "not JSON: Unexpected trailing content in the JSON input at byte 7");
  CHECK(rejected(decoder, "[1,2") ==
        "not JSON: JSON document ended early in the middle of an object or array");
  CHECK(rejected(decoder, R"({"a": x})") == R"(not JSON: unexpected "x" at byte 7)");
  CHECK(rejected(decoder, "") == "not JSON: Empty: no JSON found");
  CHECK(rejected(decoder, R"({"a" 1})") ==
        "not JSON: The JSON document has an improper structure: missing or superfluous commas, "
        "braces, missing keys, etc at byte 6");
  CHECK(rejected(decoder, R"({"a":1,})") ==
        "not JSON: The JSON document has an improper structure: missing or superfluous commas, "
        "braces, missing keys, etc at byte 8");
  CHECK(rejected(decoder, R"({"a":1)") ==
        "not JSON: JSON document ended early in the middle of an object or array");
  CHECK(rejected(decoder, R"({"a":1}})") ==
        "not JSON: Unexpected trailing content in the JSON input at byte 8");
  CHECK(rejected(decoder, R"({"@type":"Ping","id":tru})") ==
        R"(not JSON: invalid literal "tru" at byte 22)");
  CHECK(rejected(decoder, R"({"@type":"Ping","id":1,"x":nullx})") ==
        R"(not JSON: invalid literal "nullx" at byte 28)");
  CHECK(rejected(decoder, R"({"@type":"Ping","id":01})") ==
        "not JSON: Problem while parsing a number at byte 22");
  CHECK(rejected(decoder, R"({"@type":"Ping","id":1,"x":-})") ==
        "not JSON: Problem while parsing a number at byte 28");
  CHECK(rejected(decoder, R"({"@type":"Ping","id":"\q"})") ==
        "not JSON: Problem while parsing a string at byte 22");
  CHECK(rejected(decoder, R"({"@type":"Ping","id":1,"x":"\ud800"})") ==
        "not JSON: Problem while parsing a string at byte 28");
  CHECK(rejected(decoder, "{\"@type\":\"Ping\",\"id\":1,\"x\":\"a\tb\"}") ==
        "not JSON: Within strings, some characters must be escaped, we found unescaped "
        "characters at byte 30");
  CHECK(rejected(decoder, "{\"@type\":\"Ping\",\"id\":1,\"x\":\"ab\xFF\"}") ==
        "not JSON: The input is not valid UTF-8 at byte 31");
  CHECK(rejected(decoder, "{\"a\\q\":1}") == "not JSON: Problem while parsing a string at byte 3");
}

TEST_CASE("decoder: errors inside ignored members are found too", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  const std::string head = R"({"@type":"Ping","id":1,"x":)";
  CHECK(rejected(decoder, head + "[1,,2]}").rfind("not JSON: ", 0) == 0);
  CHECK(rejected(decoder, head + "[1 2]}").rfind("not JSON: ", 0) == 0);
  CHECK(rejected(decoder, head + R"({"k":tru}})") ==
        R"(not JSON: invalid literal "tru" at byte 33)");
  CHECK(rejected(decoder, head + R"({"k\q":1}})") ==
        "not JSON: Problem while parsing a string at byte 30");
  CHECK(rejected(decoder, head + R"([{"k":[0, 1.5, "s", null, true, 01]}]})") ==
        "not JSON: Problem while parsing a number at byte 60");
  std::string deep = head + std::string(200, '[') + std::string(200, ']') + "}";
  CHECK(rejected(decoder, deep) == "not JSON: nested deeper than 128 levels at byte 157");
  std::string fine = head + std::string(100, '[') + std::string(100, ']') + "}";
  CHECK(accepted(decoder, fine)->slots()[0].i == 1);
  // Big but valid numbers in ignored members are fine, and the members after them are read.
  CHECK(accepted(decoder, head + "[1e400, 99999999999999999999999]}")->slots()[0].i == 1);
  CHECK(accepted(decoder, R"({"@type":"Ping","x":1e400,"y":-99999999999999999999,"id":5})")
            ->slots()[0]
            .i == 5);
  CHECK(rejected(decoder, head + "[1, x]}") == R"(not JSON: unexpected "x" at byte 32)");
}

TEST_CASE("decoder: @watermark records", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  DecodeResult result = decoder.decodeCopy(R"({"@watermark": 1767607200000})", {});
  CHECK(result.status == DecodeStatus::Watermark);
  CHECK(result.watermark == 1767607200000);
  CHECK_FALSE(result.event);
  result = decoder.decodeCopy(R"({"@watermark":"2026-01-05T10:00:00.5Z"})", {});
  CHECK(result.status == DecodeStatus::Watermark);
  CHECK(result.watermark == 1767607200500);
  result = decoder.decodeCopy(R"({"@watermark":-3})", RecordContext{0, 1, 0, 0, 2});
  CHECK(result.status == DecodeStatus::Watermark); // also in an input bound to a type
  CHECK(result.watermark == -3);
  CHECK(rejected(decoder, R"({"@watermark":5,"@type":"Ping","id":1})") ==
        R"(a "@watermark" record must have no other members)");
  CHECK(rejected(decoder, R"({"@watermark":1.5})") ==
        R"("@watermark": expected epoch ms or RFC 3339 string, got float 1.5)");
  CHECK(rejected(decoder, R"({"@watermark":null})") ==
        R"("@watermark": expected epoch ms or RFC 3339 string, got null)");
  CHECK(rejected(decoder, R"({"@watermark":"soon"})") ==
        R"("@watermark": invalid time "soon": expected a 4-digit year at character 1, found 's')");
  CHECK(rejected(decoder, R"({"@watermark":18446744073709551615})") ==
        R"("@watermark": integer 18446744073709551615 out of range for time)");
}

TEST_CASE("decoder: in-place decoding needs only the padding", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  // Two records back to back in one padded buffer, as the line reader hands them out.
  std::string buffer =
      std::string(R"({"@type":"Ping","id":1})") + "\n" + R"({"@type":"Ping","id":2})";
  buffer.append(kLinePadding, ' ');
  std::string_view first(buffer.data(), 23);
  DecodeResult a = decoder.decode(first, buffer.size(), {});
  REQUIRE(a.status == DecodeStatus::Event);
  CHECK(a.event->slots()[0].i == 1);
  std::string_view second(buffer.data() + 24, 23);
  DecodeResult b = decoder.decode(second, buffer.size() - 24, {});
  REQUIRE(b.status == DecodeStatus::Event);
  CHECK(b.event->slots()[0].i == 2);
  // Events outlive the decoder and the text.
  buffer.assign(buffer.size(), 'x');
  CHECK(a.event->slots()[0].i == 1);
}

TEST_CASE("decoder: line numbers beyond 32 bits saturate in the event", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  RecordContext context;
  context.line = std::uint64_t{1} << 40;
  EventRef event = accepted(decoder, R"({"@type":"Ping","id":1})", context);
  CHECK(event->line == std::numeric_limits<std::uint32_t>::max());
}

TEST_CASE("decoder: the reason of one rejection does not leak into the next result",
          "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  CHECK(rejected(decoder, R"({"@type":"Nope"})") == R"(unknown @type "Nope")");
  DecodeResult ok = decoder.decodeCopy(R"({"@type":"Ping","id":1})", {});
  CHECK(ok.status == DecodeStatus::Event);
  CHECK(ok.reason.empty());
  // Many records in a row with alternating shapes.
  for (int i = 0; i < 1000; ++i) {
    std::string text = i % 3 == 0   ? R"({"@type":"Ping","id":)" + std::to_string(i) + "}"
                       : i % 3 == 1 ? R"({"id":)" + std::to_string(i) + R"(,"@type":"Ping"})"
                                    : R"({"@type":"Ping","id":"bad"})";
    DecodeResult result = decoder.decodeCopy(text, {});
    if (i % 3 == 2) {
      REQUIRE(result.status == DecodeStatus::Rejected);
    } else {
      REQUIRE(result.status == DecodeStatus::Event);
      REQUIRE(result.event->slots()[0].i == i);
    }
  }
}

TEST_CASE("decoder: many distinct extra member names", "[runtime][decoder]") {
  Schema schema = testSchema();
  JsonlDecoder decoder(schema);
  // More distinct extra names than the decoder remembers; the same names again afterwards; a
  // field name of another type is an extra member here.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 1500; ++i) {
      std::string extra = "x" + std::to_string(i);
      std::string text = "{\"" + extra + "\":[" + std::to_string(i) + R"(],"card":{"a":1},)" +
                         R"("@type":"Ping","id":)" + std::to_string(i) + ",\"" + extra + "_\":0}";
      EventRef event = accepted(decoder, text);
      REQUIRE(event->slots()[0].i == i);
    }
  }
  CHECK(rejected(decoder, R"({"x7":1,"card":{"a":1},"@type":"Ping","id":"no"})") ==
        R"(field "id": expected int, got string "no")");
}

namespace {

// The same verdict, reason and event from both decoders.
void requireSame(const Schema &schema, JsonlDecoder &fast, JsonlDecoder &slow,
                 const std::string &text) {
  RecordContext context;
  context.line = 7;
  context.seq = 3;
  context.ingestion_time = 42;
  DecodeResult a = fast.decodeCopy(text, context);
  DecodeResult b = slow.decodeCopy(text, context);
  INFO(text);
  REQUIRE(static_cast<int>(a.status) == static_cast<int>(b.status));
  REQUIRE(std::string(a.reason) == std::string(b.reason));
  if (a.status == DecodeStatus::Watermark) {
    REQUIRE(a.watermark == b.watermark);
  }
  if (a.status != DecodeStatus::Event) {
    return;
  }
  const Event &x = *a.event, &y = *b.event;
  REQUIRE(x.type == y.type);
  REQUIRE(x.field_count == y.field_count);
  REQUIRE(x.nulls == y.nulls);
  REQUIRE(x.time == y.time);
  REQUIRE(x.rawRecord() == y.rawRecord());
  for (std::uint32_t i = 0; i < x.field_count; ++i) {
    if (x.isNull(i)) {
      continue;
    }
    Slot u = x.slots()[i], v = y.slots()[i];
    if (schema.types[x.type].fields[i].kind == FieldKind::String) {
      REQUIRE(u.s->view() == v.s->view());
    } else {
      REQUIRE(u.i == v.i); // doubles bit for bit
    }
  }
}

} // namespace

TEST_CASE("decoder: the fast scanner and simdjson agree on every record", "[runtime][decoder]") {
  Schema schema = testSchema();
  DecoderOptions fast_options{true};
  DecoderOptions slow_options{true};
  slow_options.fast_path = false;
  JsonlDecoder fast(schema, fast_options), slow(schema, slow_options);
  std::vector<std::string> base = {
      kPayment,
      R"({"@type":"Payment","card":"4111","amount":12,"country":"NG","merchant":null,"ts":1})",
      R"({ "@type" : "Login", "user" : "ü", "new_device" : true, "lat" : -1.5e3,)"
      R"( "attempts" : -12, "session" : 0, "ts" : "2026-01-05T10:00:00Z" } )",
      R"({"@type":"Login","user":"u","new_device":false,"lat":null,"attempts":0,"ts":null})",
      R"({"@type":"Ping","id":123456789012345678})",
      R"({"@type":"Ping","id":1234567890123456789})",
      R"({"@type":"Ping","id":-0})",
      R"({"@type":"Ping","id":0.1e-2,"x":[1,{"y":"\u00e9"}]})",
      R"({"@watermark":1767607200000})",
      R"({"@watermark":"2026-01-05T10:00:00Z","@watermark":5})",
      R"({"id":1,"@type":"Ping","id":2,"extra":"a\"b"})",
      R"({"@type":"Payment","card":"4111","amount":1E+2,"country":"NG","ts":1.5})",
      R"({"@type":"Payment","card":"4111","amount":123456789.123456789123,"country":"N","ts":1})",
      R"({"@type":"Payment","card":"4111","amount":1e400,"country":"NG","ts":9223372036854775807})",
      R"({"@type":"Payment","card":"41","amount":0.30000000000000004,"country":"NG","ts":-5})",
      R"({})",
      R"([1,2])",
      R"("text")",
      R"(  {"@type":"Ping","id":7}	)",
      R"({"@type":"Payment","card":"1","amount":-0.0,"country":"N","ts":1,"f":0e5,"g":1e-99})",
      R"({"@type":"Payment","card":"1","amount":12345678901234567.5,"country":"N","ts":1})",
      R"({"@type":"Payment","card":"1","amount":1234567890123456789,"country":"N","ts":1})",
      // A name learned from a record that turns out not to be UTF-8, seen again.
      "{\"\xff\":1,\"@type\":\"Ping\",\"id\":1}",
      "{\"\xff\":1,\"@type\":\"Ping\",\"id\":1}",
      "{\"\xc3\xa9\":\"\xc3\xa9\",\"@type\":\"Ping\",\"id\":1}",
  };
  // Integers and floats of every length around the scanner's limits.
  std::string digits = "98765432109876543210123";
  for (std::size_t n = 1; n <= digits.size(); ++n) {
    for (const char *sign : {"", "-"}) {
      std::string number = sign + digits.substr(0, n);
      base.push_back(R"({"@type":"Ping","id":)" + number + "}");
      base.push_back(R"({"@type":"Ping","id":)" + number + ".5}");
      base.push_back(R"({"@type":"Payment","card":"1","amount":)" + number + ".25e1" +
                     R"(,"country":"N","ts":)" + number + "}");
    }
  }
  const std::string replacements = std::string("\"\\{}[],:0-.eE tx\t\r\x01\xff\xc3", 22);
  std::uint64_t checked = 0;
  for (const std::string &record : base) {
    requireSame(schema, fast, slow, record);
    ++checked;
    for (std::size_t i = 0; i < record.size(); ++i) {
      std::string deleted = record;
      deleted.erase(i, 1);
      requireSame(schema, fast, slow, deleted);
      for (char c : replacements) {
        std::string changed = record;
        changed[i] = c;
        requireSame(schema, fast, slow, changed);
        std::string inserted = record;
        inserted.insert(i, 1, c);
        requireSame(schema, fast, slow, inserted);
        checked += 2;
      }
      // Again the original, so the name predictions move back and forth.
      requireSame(schema, fast, slow, record);
    }
  }
  CHECK(checked > 10000);
}

TEST_CASE("decoder: the remembered record shape and name order", "[runtime][decoder]") {
  // Consecutive records that share the previous one's shape (the bytes between the values) or
  // name order, or almost: each must decode exactly as simdjson alone decodes it.
  Schema schema = testSchema();
  DecoderOptions slow_options;
  slow_options.fast_path = false;
  JsonlDecoder fast(schema), slow(schema, slow_options);
  const std::vector<std::string> records = {
      R"({"@type":"Ping","id":1})",
      R"({"@type":"Ping","id":22})",              // same shape, longer value
      R"({"@type":"Ping","id":-3})",              // a sign
      R"({"@type":"Ping","id":"x"})",             // same literals, another kind: rejected
      R"({"@type":"Ping","id":4,"extra":true})",  // one member more
      R"({"@type":"Ping","id":5,"extra":false})", // that shape again
      R"({"@type":"Ping","id":5,"extra":[1]})",   // same literals, a nested value
      R"({"@type":"Ping","id":6})",               // one member fewer
      R"({"@type":"Ping","id":6} )",              // trailing space
      R"({"@type":"Ping","id":6}x)",              // trailing garbage
      R"({"@type":"Ping","id":6)",                // cut short
      R"({"id":7,"@type":"Ping"})",               // another order
      R"({"id":8,"@type":"Ping"})",               // that order again
      R"({"id":8,"@type":"Pong"})",               // unknown type
      R"({"id":9,"@type":"Ping","id":10})",       // a duplicate, the last counts
      R"({"id":9,"@type":"Ping","id":null})",     // ... null: rejected
      R"({ "id" : 11 , "@type" : "Ping" })",      // spaces
      R"({ "id" : 12 , "@type" : "Ping" })",      // the same spaces
      R"({ "id" : 12 ,"@type" : "Ping" })",       // almost
      R"({"@watermark":5})",                      // a watermark
      R"({"@watermark":6})",                      // the same shape
      R"({"@watermark":6,"id":1})",               // not a watermark record
      R"({"@type":"Payment","card":"a","amount":1.5,"country":"NG","ts":1})",
      R"({"@type":"Payment","card":"bbbbbbbbbbbbbbbbbbbb","amount":2,"country":"DE","ts":22})",
      R"({"@type":"Payment","card":"c\"","amount":2,"country":"DE","ts":22})",
      R"({"@type":"Payment","card":"é","amount":2e1,"country":"DE","ts":"2026-01-05T10:00:00Z"})",
      "{\"@type\":\"Payment\",\"card\":\"\xc3\",\"amount\":2,\"country\":\"DE\",\"ts\":22}",
      R"({"@type":"Payment","card":"d","amount":3,"country":"DE","ts":23,"merchant":"m"})",
      R"({})",
      R"({})",
  };
  for (int round = 0; round < 2; ++round) {
    for (const std::string &record : records) {
      requireSame(schema, fast, slow, record);
    }
  }
}

TEST_CASE("decoder: floats with many digits keep their value", "[runtime][decoder]") {
  // simdjson 3.0.1's get_number() gives 0 for floats of 19 or more significant digits; the
  // decoder reads float text with from_chars (correctly rounded), on both decoding paths.
  Schema schema = singleTypeSchema();
  for (bool fast : {true, false}) {
    DecoderOptions options;
    options.fast_path = fast;
    JsonlDecoder decoder(schema, options);
    auto value = [&](const std::string &number) {
      EventRef e = accepted(decoder, R"({"sensor":"s","value":)" + number + "}");
      return e->slots()[1].f;
    };
    INFO("fast path " << fast);
    CHECK(value("123456789.1234567891") == 123456789.1234567891);
    CHECK(value("0.12345678901234567891") == 0.12345678901234567891);
    CHECK(value("-98765432109876543210.5") == -98765432109876543210.5);
    CHECK(value("1.5") == 1.5);
    CHECK(value("12345678901234567890") == 12345678901234567890.0);
  }
}

TEST_CASE("decoder: event times and watermarks outside the plausible range are rejected",
          "[runtime][decoder]") {
  Schema schema = testSchema();
  for (bool fast : {true, false}) {
    DecoderOptions options;
    options.fast_path = fast;
    options.time_min = 0;
    options.time_max = 7258118400000; // 2200-01-01T00:00:00Z, excluded
    JsonlDecoder decoder(schema, options);
    const std::string head = R"({"@type":"Payment","card":"c","amount":1.0,"country":"DE",)";
    const std::string range = " is outside the accepted range 1970-01-01T00:00:00.000Z .. "
                              "2200-01-01T00:00:00.000Z (--event-time-range)";
    CHECK(accepted(decoder, head + R"("ts":0})")->time == 0);
    CHECK(accepted(decoder, head + R"("ts":7258118399999})")->time == 7258118399999);
    CHECK(rejected(decoder, head + R"("ts":7258118400000})") ==
          "field \"ts\": event time 7258118400000" + range);
    CHECK(rejected(decoder, head + R"("ts":9223372036854775000})") ==
          "field \"ts\": event time 9223372036854775000" + range);
    CHECK(rejected(decoder, head + R"("ts":-1})") == "field \"ts\": event time -1" + range);
    CHECK(rejected(decoder, head + R"("ts":"2200-01-01T00:00:00Z"})") ==
          "field \"ts\": event time \"2200-01-01T00:00:00Z\"" + range);
    CHECK(rejected(decoder, R"({"@watermark":-5})") == "\"@watermark\": watermark -5" + range);
    CHECK(decoder.decodeCopy(R"({"@watermark":5})", {}).status == DecodeStatus::Watermark);
    // Other time fields and ingestion times are not event times read from the record.
    RecordContext context;
    context.ingestion_time = -42;
    CHECK(accepted(decoder, R"({"@type":"Ping","id":1})", context)->time == -42);
  }
}

TEST_CASE("decoder: a member named twice rejects the record, on both paths", "[runtime][decoder]") {
  Schema schema = testSchema();
  for (bool fast : {true, false}) {
    DecoderOptions options;
    options.fast_path = fast;
    JsonlDecoder decoder(schema, options);
    const std::string tail = " (a record may name each member only once)";
    // A field: today's "last one wins" would accept "x" then 5.0.
    CHECK(rejected(decoder, R"({"@type":"Payment","card":"c","amount":"x","country":"FR",)"
                            R"("amount":5.0,"ts":8})") == "duplicate member \"amount\"" + tail);
    // The same record shape twice first (the scanner's remembered shape), then a duplicate.
    const std::string good = R"({"@type":"Payment","card":"c","amount":1,"country":"FR","ts":8})";
    accepted(decoder, good);
    accepted(decoder, good);
    CHECK(rejected(decoder, R"({"@type":"Payment","card":"c","amount":1,"country":"FR","ts":8,)"
                            R"("ts":9})") == "duplicate member \"ts\"" + tail);
    // Escaped and plain spellings of one name; an extra member; @type; @watermark.
    CHECK(rejected(decoder, R"({"@type":"Payment","card":"c","c\u0061rd":"d","amount":1,)"
                            R"("country":"FR","ts":8})") == "duplicate member \"card\"" + tail);
    CHECK(rejected(decoder,
                   R"({"@type":"Payment","card":"c","amount":1,"country":"FR",)"
                   R"("ts":8,"note":1,"note":[2]})") == "duplicate member \"note\"" + tail);
    CHECK(rejected(decoder, R"({"@type":"Payment","@type":"Login","card":"c","amount":1,)"
                            R"("country":"FR","ts":8})") == "duplicate member \"@type\"" + tail);
    CHECK(rejected(decoder, R"({"@watermark":1,"@watermark":2})") ==
          "duplicate member \"@watermark\"" + tail);
    // Nested objects are not looked into; the same name at two levels is fine.
    CHECK(accepted(decoder, R"({"@type":"Payment","card":"c","amount":1,"country":"FR",)"
                            R"("ts":8,"x":{"card":1}})")
              ->time == 8);
  }
  // More extra names than the decoder remembers: duplicates are still found.
  JsonlDecoder decoder(schema);
  std::string many = R"({"@type":"Payment","card":"c","amount":1,"country":"FR","ts":8)";
  for (int i = 0; i < 1100; ++i) {
    many += ",\"k" + std::to_string(i) + "\":0";
  }
  CHECK(accepted(decoder, many + "}")->time == 8);
  CHECK(rejected(decoder, many + ",\"k1099\":1}") ==
        "duplicate member \"k1099\"" + std::string(" (a record may name each "
                                                   "member only once)"));
}
