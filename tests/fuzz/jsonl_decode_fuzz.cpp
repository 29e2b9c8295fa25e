// libFuzzer target: decode arbitrary bytes as one JSON Lines record against a fixed schema that
// has every field kind (nullable and not, with and without a time field), then write the event
// back out with the JSON writer. Rejections are fine; it fails only on crashes, on what the
// sanitizers catch, and on a broken decoder invariant (abort). See tests/fuzz/README.md.
#include "runtime/io/json_writer.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/schema.hpp"
#include "runtime/time/time_format.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace cep::runtime;

namespace {

Schema makeSchema() {
  Schema schema;
  schema.types.push_back(EventSchema{"Payment",
                                     {{"card", FieldKind::String, false},
                                      {"amount", FieldKind::Float, false},
                                      {"count", FieldKind::Int, false},
                                      {"ok", FieldKind::Bool, false},
                                      {"wait", FieldKind::Duration, false},
                                      {"merchant", FieldKind::String, true},
                                      {"ts", FieldKind::Time, false}},
                                     6});
  schema.types.push_back(EventSchema{"Login",
                                     {{"user", FieldKind::String, true},
                                      {"lat", FieldKind::Float, true},
                                      {"n", FieldKind::Int, true},
                                      {"new_device", FieldKind::Bool, true},
                                      {"session", FieldKind::Duration, true},
                                      {"ts", FieldKind::Time, true}},
                                     5});
  schema.types.push_back(EventSchema{"Ping", {{"id", FieldKind::Int, false}}, -1});
  return schema;
}

void check(bool condition, const char *what) {
  if (!condition) {
    std::fprintf(stderr, "decoder invariant broken: %s\n", what);
    std::abort();
  }
}

void writeEvent(const Schema &schema, const Event &event, std::string_view text, bool keep_raw) {
  const EventSchema &type = schema.types[event.type];
  check(event.field_count == type.fields.size(), "field count");
  check(!keep_raw || event.rawRecord() == text, "raw record");
  std::string out;
  JsonWriter json(out);
  json.beginObject();
  for (std::uint32_t i = 0; i < event.field_count; ++i) {
    json.key(type.fields[i].name);
    if (event.isNull(i)) {
      check(type.fields[i].nullable, "null in a non-nullable field");
      json.writeNull();
      continue;
    }
    const Slot &slot = event.slots()[i];
    switch (type.fields[i].kind) {
    case FieldKind::Bool:
      json.writeBool(slot.b);
      break;
    case FieldKind::Int:
    case FieldKind::Duration:
      json.writeInt(slot.i);
      break;
    case FieldKind::Float:
      json.writeFloat(slot.f);
      break;
    case FieldKind::String:
      json.writeString(slot.s->view());
      break;
    case FieldKind::Time:
      check(static_cast<std::int32_t>(i) != type.time_field || slot.i == event.time, "event time");
      json.writeTime(slot.i);
      break;
    }
  }
  if (keep_raw) {
    json.key("@raw");
    json.writeRaw(event.rawRecord());
  }
  json.endObject();
  json.endLine();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  static const Schema schema = makeSchema();
  static JsonlDecoder with_raw(schema, DecoderOptions{true});
  static JsonlDecoder without_raw(schema, DecoderOptions{false});
  std::string_view text(reinterpret_cast<const char *>(data), size);
  // The input's length picks the options, so every input is a record as it stands.
  bool keep_raw = size % 2 == 0;
  RecordContext context;
  context.line = size;
  context.ingestion_time = 1767607200000;
  context.bound_type = static_cast<std::int32_t>(size / 2 % 4) - 1; // none, Payment, Login, Ping
  JsonlDecoder &decoder = keep_raw ? with_raw : without_raw;
  DecodeResult result = decoder.decodeCopy(text, context);
  switch (result.status) {
  case DecodeStatus::Event:
    check(result.event && result.reason.empty(), "event result");
    check(context.bound_type < 0 ||
              result.event->type == static_cast<std::uint32_t>(context.bound_type),
          "bound type");
    writeEvent(schema, *result.event, text, keep_raw);
    break;
  case DecodeStatus::Watermark:
    check(!result.event, "watermark result");
    break;
  case DecodeStatus::Rejected:
    check(!result.event && !result.reason.empty(), "rejection without a reason");
    break;
  }
  // The time and duration parsers see the same bytes.
  std::int64_t ms = 0;
  std::string error;
  // Formatting is exact to the ms; years 0000-9999 (the only ones RFC 3339 has) parse back.
  if (parseRfc3339(text, ms, &error) && ms >= -62167219200000 && ms <= 253402300799999) {
    std::int64_t again = 0;
    check(parseRfc3339(formatRfc3339(ms), again) && again == ms, "RFC 3339 round trip");
  }
  parseDuration(text, ms, &error);
  return 0;
}
