// Typed plans (runtime/io/record_plan.hpp) against the generic decoder: randomized records of
// the predicted shapes and of every kind of deviation, decoded by a decoder with plans and by
// simdjson alone, must give the same verdict, reason and event, byte for byte.
#include "runtime/io/jsonl_decoder.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace cep::runtime;

namespace {

FieldSchema field(const char *name, FieldKind kind, bool nullable = false) {
  return FieldSchema{name, kind, nullable};
}

// Every kind, nullable and required fields, a type without a time field.
Schema planSchema() {
  Schema schema;
  schema.types.push_back(
      EventSchema{"Payment",
                  {field("card", FieldKind::String), field("amount", FieldKind::Float),
                   field("country", FieldKind::String), field("merchant", FieldKind::String, true),
                   field("ts", FieldKind::Time)},
                  4});
  schema.types.push_back(
      EventSchema{"Login",
                  {field("user", FieldKind::String), field("new_device", FieldKind::Bool),
                   field("lat", FieldKind::Float, true), field("attempts", FieldKind::Int),
                   field("session", FieldKind::Duration, true), field("ts", FieldKind::Time, true)},
                  5});
  schema.types.push_back(EventSchema{"Ping", {field("id", FieldKind::Int)}, -1});
  return schema;
}

Schema seqSchema() { // bench/rules/seq.cep's: records without "@type"
  Schema schema;
  schema.types.push_back(EventSchema{"Ev",
                                     {field("type", FieldKind::String),
                                      field("key", FieldKind::Int), field("ts", FieldKind::Time)},
                                     2});
  return schema;
}

// The same verdict, reason and event (values, nulls, time, raw record, and where each string
// sits in the block) from both decoders.
void requireSame(const Schema &schema, JsonlDecoder &planned, JsonlDecoder &generic,
                 const std::string &text, const RecordContext &context) {
  DecodeResult a = planned.decodeCopy(text, context);
  DecodeResult b = generic.decodeCopy(text, context);
  INFO(text);
  INFO("bound type " << context.bound_type);
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
  REQUIRE(x.seq == y.seq);
  REQUIRE(x.input == y.input);
  REQUIRE(x.line == y.line);
  REQUIRE(x.rawRecord() == y.rawRecord());
  if (x.raw_size > 0) {
    REQUIRE((x.raw - reinterpret_cast<const char *>(&x)) ==
            (y.raw - reinterpret_cast<const char *>(&y)));
  }
  for (std::uint32_t i = 0; i < x.field_count; ++i) {
    Slot u = x.slots()[i], v = y.slots()[i];
    if (!x.isNull(i) && schema.types[x.type].fields[i].kind == FieldKind::String) {
      REQUIRE(u.s->view() == v.s->view());
      REQUIRE((reinterpret_cast<const char *>(u.s) - reinterpret_cast<const char *>(&x)) ==
              (reinterpret_cast<const char *>(v.s) - reinterpret_cast<const char *>(&y)));
    } else {
      REQUIRE(u.i == v.i); // doubles bit for bit; null slots zero
    }
  }
}

// Records of the plan schema's types: mostly in the shapes a producer writes again and again,
// with random values (some of the wrong kind, out of range, with escapes, non-ASCII or invalid
// UTF-8), and deviations of every kind: another member order, "@type" last or absent, extra
// members (scalar and nested), missing members, duplicates, spaces, null, then single bytes
// deleted, replaced or inserted anywhere.
class RecordGenerator {
public:
  explicit RecordGenerator(std::uint64_t seed) : rng_(seed) {}

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool chance(int percent) { return pick(100) < static_cast<std::size_t>(percent); }

  std::string integer(std::size_t max_digits = 20) {
    std::string text = chance(15) ? "-" : "";
    std::size_t digits = 1 + pick(chance(80) ? 13 : max_digits);
    text += chance(3) ? '0' : static_cast<char>('1' + pick(9));
    for (std::size_t i = 1; i < digits; ++i) {
      text += static_cast<char>('0' + pick(10));
    }
    return text;
  }

  std::string number() {
    std::string text = integer(20);
    if (chance(60)) {
      text += '.';
      std::size_t digits = 1 + pick(chance(80) ? 4 : 12);
      for (std::size_t i = 0; i < digits; ++i) {
        text += static_cast<char>('0' + pick(10));
      }
    }
    if (chance(8)) {
      text += chance(50) ? "e" : "E";
      text += chance(30) ? "-" : (chance(30) ? "+" : "");
      text += std::to_string(pick(chance(90) ? 30 : 400));
    }
    return text;
  }

  std::string string() {
    static const std::vector<std::string> pieces = {
        "a",       "Z",    "4111", "NG",   " ",  "é",   "\xe2\x82\xac",     "\\\"", "\\\\", "\\n",
        "\\u00e9", "\xff", "\xc3", "\x01", "\t", "x/y", "0123456789abcdef", "@type"};
    std::string text = "\"";
    std::size_t n = pick(chance(70) ? 4 : 24);
    for (std::size_t i = 0; i < n; ++i) {
      text += chance(85) ? pieces[pick(5)] : pieces[pick(pieces.size())];
    }
    return text + "\"";
  }

  std::string time() {
    if (chance(20)) {
      static const std::vector<std::string> times = {
          "\"2026-01-05T10:00:00Z\"", "\"2026-01-05T10:00:00.123+01:00\"",
          "\"2026-13-05T10:00:00Z\"", "\"1969-12-31T23:59:59Z\"",
          "\"2301-01-01T00:00:00Z\"", "\"yesterday\""};
      return times[pick(times.size())];
    }
    if (chance(5)) {
      return chance(50) ? "-5" : "9223372036854775807";
    }
    return "17" + std::to_string(10000000000ULL + pick(1000000000));
  }

  // A value for a field of `kind`: usually right, sometimes another kind or null.
  std::string value(FieldKind kind) {
    if (chance(4)) {
      return "null";
    }
    if (chance(4)) {
      static const std::vector<std::string> others = {"true", "false", "\"x\"", "1.5", "7",
                                                      "[1]",  "{}",    "nul",   "-",   "0x1"};
      return others[pick(others.size())];
    }
    switch (kind) {
    case FieldKind::Bool:
      return chance(50) ? "true" : "false";
    case FieldKind::Int:
    case FieldKind::Duration:
      return integer();
    case FieldKind::Float:
      return number();
    case FieldKind::String:
      return string();
    case FieldKind::Time:
      return time();
    }
    return "0";
  }

  // A record of `type` (index into `schema`), in one of a few producers' shapes.
  std::string record(const Schema &schema, std::size_t type, bool with_type) {
    const EventSchema &event = schema.types[type];
    std::vector<std::string> members;
    for (const FieldSchema &f : event.fields) {
      if (f.nullable && chance(10)) {
        continue; // absent
      }
      members.push_back("\"" + f.name + "\":" + value(f.kind));
    }
    if (chance(3) && !members.empty()) {
      members.erase(members.begin() + static_cast<std::ptrdiff_t>(pick(members.size())));
    }
    if (chance(5)) {
      static const std::vector<std::string> extras = {
          "\"note\":\"n\"",         "\"n\":1",     "\"flag\":true", "\"z\":null",
          "\"deep\":{\"a\":[1,2]}", "\"list\":[]", "\"f\":2.5",     "\"esc\":\"a\\\"b\""};
      members.push_back(extras[pick(extras.size())]);
    }
    if (chance(2) && !members.empty()) {
      members.push_back(members[pick(members.size())]); // a duplicate
    }
    if (chance(3)) {
      std::shuffle(members.begin(), members.end(), rng_);
    }
    if (with_type) {
      std::string type_member = "\"@type\":\"" + event.name + "\"";
      if (chance(2)) {
        type_member = "\"@type\":\"" + schema.types[pick(schema.types.size())].name + "x\"";
      }
      if (chance(10)) {
        members.push_back(type_member);
      } else {
        members.insert(members.begin(), type_member);
      }
    }
    const char *separator = chance(3) ? ", " : ",";
    std::string text = chance(2) ? "{ " : "{";
    for (std::size_t i = 0; i < members.size(); ++i) {
      text += (i == 0 ? "" : separator) + members[i];
    }
    text += chance(2) ? "} " : "}";
    if (chance(1)) {
      text = "{\"@watermark\":" + time() + "}";
    }
    return text;
  }

  // One byte deleted, replaced or inserted.
  std::string mutate(std::string text) {
    static const char raw[] = "\"\\{}[],:0-.eE tnx\t\x01\xff\xc3";
    static const std::string bytes(raw, sizeof raw); // the terminating NUL is a mutation too
    std::size_t at = pick(text.size() + 1);
    switch (pick(3)) {
    case 0:
      if (at < text.size()) {
        text.erase(at, 1);
      }
      break;
    case 1:
      if (at < text.size()) {
        text[at] = bytes[pick(bytes.size())];
      }
      break;
    default:
      text.insert(at, 1, bytes[pick(bytes.size())]);
    }
    return text;
  }

private:
  std::mt19937_64 rng_;
};

struct Tally {
  std::uint64_t events = 0, rejected = 0, watermarks = 0;
};

Tally run(const Schema &schema, bool with_type, std::uint64_t seed, int records,
          JsonlDecoder &planned, JsonlDecoder &generic) {
  RecordGenerator gen(seed);
  Tally tally;
  for (int n = 0; n < records; ++n) {
    std::size_t type = gen.pick(schema.types.size());
    std::string text = gen.record(schema, type, with_type);
    if (gen.chance(15)) {
      text = gen.mutate(text);
    }
    RecordContext context;
    context.input = static_cast<std::uint32_t>(gen.pick(3));
    context.line = gen.chance(1) ? (std::uint64_t{1} << 33) : static_cast<std::uint64_t>(n + 1);
    context.seq = static_cast<std::uint64_t>(n);
    context.ingestion_time = 1700000000000 + n;
    if (gen.chance(10)) {
      context.bound_type = static_cast<std::int32_t>(gen.pick(schema.types.size()));
    }
    requireSame(schema, planned, generic, text, context);
    DecodeResult result = generic.decodeCopy(text, context);
    tally.events += result.status == DecodeStatus::Event;
    tally.rejected += result.status == DecodeStatus::Rejected;
    tally.watermarks += result.status == DecodeStatus::Watermark;
  }
  return tally;
}

DecoderOptions options(bool plans, bool fast, bool keep_raw) {
  DecoderOptions o;
  o.keep_raw = keep_raw;
  o.fast_path = fast;
  o.record_plans = plans;
  o.time_min = 0;               // 1970
  o.time_max = 7258118400000LL; // 2200
  return o;
}

} // namespace

TEST_CASE("decoder: typed plans and simdjson agree on randomized records", "[runtime][decoder]") {
  Schema schema = planSchema();
  for (bool keep_raw : {false, true}) {
    JsonlDecoder planned(schema, options(true, true, keep_raw));
    JsonlDecoder generic(schema, options(false, false, keep_raw));
    const int records = 20000;
    Tally tally = run(schema, true, keep_raw ? 2 : 1, records, planned, generic);
    DecoderCounts counts = planned.counts();
    INFO("events " << tally.events << ", by plans " << counts.plan_events << ", rejected "
                   << tally.rejected << ", plans built " << counts.plans_built);
    // Both sides of the comparison are exercised: records the plans decode, events and
    // rejections they leave to the generic decoder.
    CHECK(counts.plan_events > records / 5);
    CHECK(tally.events - counts.plan_events > records / 20);
    CHECK(tally.rejected > records / 10);
    CHECK(tally.watermarks > 0);
    CHECK(counts.plans_built >= 3);
    // Tight plans (every field named, nothing else) and the others both decode records here;
    // with the raw record kept only the others do (so they are compared on every shape).
    if (keep_raw) {
      CHECK(counts.tight_events == 0);
    } else {
      CHECK(counts.tight_events > records / 10);
      CHECK(counts.plan_events - counts.tight_events > records / 200);
    }
  }
}

TEST_CASE("decoder: typed plans for records without @type", "[runtime][decoder]") {
  Schema schema = seqSchema();
  JsonlDecoder planned(schema, options(true, true, false));
  JsonlDecoder generic(schema, options(false, false, false));
  Tally tally = run(schema, false, 3, 10000, planned, generic);
  CHECK(planned.counts().plan_events > 10000 / 4);
  CHECK(tally.rejected > 0);
}

TEST_CASE("decoder: a typed plan decodes the record it was built from and no deviation",
          "[runtime][decoder]") {
  Schema schema = planSchema();
  JsonlDecoder decoder(schema, options(true, true, false));
  const std::string good =
      R"({"@type":"Payment","card":"4111","amount":12.5,"country":"NG","ts":1767607200000})";
  RecordContext context;
  REQUIRE(decoder.decodeCopy(good, context).status == DecodeStatus::Event);
  REQUIRE(decoder.counts().plans_built == 1);
  REQUIRE(decoder.counts().plan_events == 0);
  // Another value of every kind, the same shape: the plan.
  DecodeResult same = decoder.decodeCopy(
      R"({"@type":"Payment","card":"55","amount":-3,"country":"DE","ts":"2026-01-05T10:00:00Z"})",
      context);
  REQUIRE(same.status == DecodeStatus::Event);
  CHECK(same.event->slots()[1].f == -3.0);
  CHECK(same.event->time == 1767607200000);
  CHECK(decoder.counts().plan_events == 1);
  // Deviations: the generic decoder (the count does not move), with its reasons.
  const std::vector<std::pair<std::string, std::string>> deviations = {
      {R"({"@type":"Payment","card":"4\"1","amount":1,"country":"NG","ts":1})", ""},
      {R"({"@type":"Payment","card":"4","amount":1,"country":"NG","ts":1.5})",
       R"(field "ts": expected time (epoch ms or RFC 3339 string), got float 1.5)"},
      {R"({"@type":"Payment","card":null,"amount":1,"country":"NG","ts":1})",
       R"(field "card": expected string, got null)"},
      {R"({"@type":"Payment","card":"4","amount":1,"country":"NG","ts":-1})",
       "field \"ts\": event time -1 is outside the accepted range 1970-01-01T00:00:00.000Z .. "
       "2200-01-01T00:00:00.000Z (--event-time-range)"},
      {"{\"@type\":\"Payment\",\"card\":\"\xff\",\"amount\":1,\"country\":\"NG\",\"ts\":1}",
       "not JSON: The input is not valid UTF-8 at byte 28"},
      {R"({"@type":"Payment","card":"4","amount":1,"country":"NG","ts":12345678901234567890})",
       R"(field "ts": integer 12345678901234567890 out of range for time)"},
  };
  for (const auto &[text, reason] : deviations) {
    DecodeResult result = decoder.decodeCopy(text, context);
    INFO(text);
    if (reason.empty()) {
      CHECK(result.status == DecodeStatus::Event);
    } else {
      CHECK(result.status == DecodeStatus::Rejected);
      CHECK(std::string(result.reason) == reason);
    }
  }
  CHECK(decoder.counts().plan_events == 1);
}

TEST_CASE("decoder: floats read eight digits at a time round as from_chars does",
          "[runtime][decoder]") {
  // Clinger's fast path (json_scalars.hpp) against simdjson + from_chars: mantissas around 2^53,
  // powers of ten around 10^22, signs, zeros.
  Schema schema = planSchema();
  JsonlDecoder planned(schema, options(true, true, false));
  JsonlDecoder generic(schema, options(false, false, false));
  std::mt19937_64 rng(5);
  std::vector<std::string> numbers = {"9007199254740992.0",
                                      "9007199254740993.0",
                                      "9007199254740991e22",
                                      "1e22",
                                      "1e23",
                                      "1e-22",
                                      "1e-23",
                                      "-0.0",
                                      "0.0e0",
                                      "4.9e-3",
                                      "0.1",
                                      "0.3",
                                      "123456789012.345678"};
  for (int i = 0; i < 20000; ++i) {
    std::string digits = std::to_string(rng() % 1000000000000000000ULL);
    digits.resize(1 + rng() % digits.size());
    std::size_t dot = rng() % digits.size();
    std::string text = (rng() % 4 == 0 ? "-" : "") + digits.substr(0, dot + 1);
    if (dot + 1 < digits.size()) {
      text += "." + digits.substr(dot + 1);
    }
    if (rng() % 3 == 0) {
      text += "e" + std::to_string(static_cast<int>(rng() % 61) - 30);
    }
    numbers.push_back(text);
  }
  RecordContext context;
  for (const std::string &number : numbers) {
    requireSame(schema, planned, generic,
                R"({"@type":"Payment","card":"1","amount":)" + number + R"(,"country":"N","ts":1})",
                context);
  }
  CHECK(planned.counts().plan_events > numbers.size() / 2);
}

namespace {

// A record of seq's shape with the given values' text.
std::string seqRecord(const std::string &type, const std::string &key, const std::string &ts) {
  return R"({"type":)" + type + R"(,"key":)" + key + R"(,"ts":)" + ts + "}";
}

// Each record twice (the second by its layout), then its mutations (every byte replaced by each
// of `bytes`), each followed by the record itself again so that the layout stays the record's.
void mutateEach(const Schema &schema, JsonlDecoder &planned, JsonlDecoder &generic,
                const std::vector<std::string> &records, const std::string &bytes,
                const RecordContext &context, std::size_t &tried) {
  for (const std::string &base : records) {
    requireSame(schema, planned, generic, base, context);
    requireSame(schema, planned, generic, base, context);
    for (std::size_t at = 0; at < base.size(); ++at) {
      for (char byte : bytes) {
        std::string text = base;
        text[at] = byte;
        requireSame(schema, planned, generic, text, context);
        requireSame(schema, planned, generic, base, context);
        ++tried;
      }
    }
  }
}

} // namespace

TEST_CASE("decoder: a tight plan's layouts take only what the tight loop takes",
          "[runtime][decoder]") {
  // Records of one length in a row (the layout learned from the first), then each with one
  // byte replaced anywhere by bytes that matter to the layout's checks; numbers at the limits
  // of what the scanner reads, escapes, non-ASCII, reordered, missing and extra members, a
  // shape change in the middle: every one the same verdict, reason and event as simdjson.
  Schema schema = seqSchema();
  JsonlDecoder planned(schema, options(true, true, false));
  JsonlDecoder generic(schema, options(false, false, false));
  RecordContext context;
  std::vector<std::string> records;
  for (const char *key :
       {"1234", "9876", "1000", "0", "7", "-5", "-0", "00", "0123", "999999999999999999",
        "-999999999999999999", "1000000000000000000", "123456789012345678", "12345678", "123456789",
        "1234567890123456", "12345678901234567"}) {
    for (const char *ts : {"1700000000123", "1700000000999", "\"2026-01-05T10:00:00Z\"",
                           "\"2026-01-05T10:00:00.5Z\"", "0", "-1", "17000000001239",
                           "7258118399999", "7258118400000"}) {
      records.push_back(seqRecord("\"A\"", key, ts));
    }
  }
  for (const char *type : {"\"A\"", "\"\"", "\"ABCDEFGHIJ\"", "\"A\\\"\"", "\"\\u0041\"",
                           "\"\xc3\xa9\"", "\"\xff\"", "\"a\tb\"", "null", "1", "\"A\"  "}) {
    records.push_back(seqRecord(type, "42", "1700000000123"));
  }
  records.push_back(R"({"key":1234,"type":"A","ts":1700000000123})");
  records.push_back(R"({"key":1234,"type":"A","ts":1700000000124})");
  records.push_back(R"({"type":"A","key":1234})");
  records.push_back(R"({"type":"A","key":1234,"ts":1700000000123,"x":1})");
  records.push_back(R"({"type":"A", "key":1234,"ts":1700000000123})");
  records.push_back(R"({"type":"A","key":1234,"ts":1700000000123} )");
  records.push_back(R"({"type":"A","key":1234,"ts":1700000000123)");
  records.push_back(R"({"type":"A","key":1234.5,"ts":1700000000123})");
  records.push_back(R"({"type":"A","key":1234e1,"ts":1700000000123})");
  const std::string bytes = std::string("\"\\{}[],:09-+.eE tn\t\x01\x7f\x80\xff", 24) + '\0';
  std::size_t tried = 0;
  mutateEach(schema, planned, generic, records, bytes, context, tried);
  // Floats, bools and nulls (literal bytes of a layout) in records short enough for layouts.
  Schema kinds;
  kinds.types.push_back(
      EventSchema{"K",
                  {field("a", FieldKind::Float), field("b", FieldKind::Bool),
                   field("c", FieldKind::String, true), field("d", FieldKind::Duration, true),
                   field("t", FieldKind::Time)},
                  4});
  JsonlDecoder planned_kinds(kinds, options(true, true, false));
  JsonlDecoder generic_kinds(kinds, options(false, false, false));
  std::vector<std::string> kind_records;
  for (const char *a : {"1.5", "-0.25", "7", "1e5", "12345678901234567.5", "0.1"}) {
    for (const char *rest : {R"("b":true,"c":null,"d":5)", R"("b":false,"c":"xy","d":null)"}) {
      kind_records.push_back(std::string(R"({"a":)") + a + "," + rest + R"(,"t":1700000000123})");
    }
  }
  mutateEach(kinds, planned_kinds, generic_kinds, kind_records, bytes, context, tried);
  CHECK(planned_kinds.counts().layout_events > kind_records.size());
  DecoderCounts counts = planned.counts();

  INFO("tried " << tried << ", plan events " << counts.plan_events << ", by layouts "
                << counts.layout_events << ", by the tight loop " << counts.tight_events);
  // Both the layouts and the tight loop decode records here, and many mutations are left to
  // the tight loop or the generic decoder.
  CHECK(counts.layout_events > tried / 3);
  CHECK(counts.tight_events - counts.layout_events > tried / 200);
}

TEST_CASE("decoder: a record at the end of its buffer, its padding full of digits and quotes",
          "[runtime][decoder]") {
  // The readers look past a record's end (into its padding, which may hold anything: the next
  // record, old bytes): whatever is there, the record is read as if it ended where it ends.
  Schema schema = seqSchema();
  JsonlDecoder planned(schema, options(true, true, false));
  JsonlDecoder generic(schema, options(false, false, false));
  RecordContext context;
  const std::string good = seqRecord("\"A\"", "1234", "1700000000123");
  const std::vector<std::string> texts = {
      good,
      good,
      "", // empty: no layout is that of an empty record
      "{}",
      good.substr(0, good.size() - 1),               // no closing brace
      good.substr(0, good.size() - 2),               // the time cut short
      R"({"type":"A","key":1234,"ts":)",             // no time at all
      R"({"type":"A","key":1234,"ts":170000000012)", // a digit short, and no brace
      R"({"type":"A)",                               // inside the string
      R"({"type":"A","key":12)",                     // inside an integer
  };
  for (char fill : {'9', '"', '}', '0', '\0'}) {
    for (const std::string &text : texts) {
      std::vector<char> buffer(text.size() + kLinePadding, fill);
      std::memcpy(buffer.data(), text.data(), text.size());
      std::string_view view(buffer.data(), text.size());
      DecodeResult a = planned.decode(view, buffer.size(), context);
      DecodeResult b = generic.decodeCopy(text, context);
      INFO(text << " padded with '" << fill << "'");
      REQUIRE(static_cast<int>(a.status) == static_cast<int>(b.status));
      REQUIRE(std::string(a.reason) == std::string(b.reason));
      if (a.status == DecodeStatus::Event) {
        CHECK(a.event->slots()[1].i == b.event->slots()[1].i);
        CHECK(a.event->time == b.event->time);
        CHECK(a.event->slots()[0].s->view() == b.event->slots()[0].s->view());
      }
    }
  }
  CHECK(planned.counts().layout_events > 0);
  // A type without a time field (no range check to stop a wrong event) and empty records: no
  // layout is an empty record's.
  Schema ping;
  ping.types.push_back(EventSchema{"Ping", {field("id", FieldKind::Int)}, -1});
  JsonlDecoder planned_ping(ping, options(true, true, false));
  JsonlDecoder generic_ping(ping, options(false, false, false));
  for (const char *text : {R"({"id":17})", R"({"id":17})", "", R"({"id":18})", "", "{}"}) {
    requireSame(ping, planned_ping, generic_ping, text, context);
  }
  CHECK(planned_ping.counts().layout_events > 0);
}
