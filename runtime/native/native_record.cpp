// Output records and "@key" text of the native matcher (see native_record.hpp).
#include "runtime/native/native_record.hpp"

#include "runtime/io/json_writer.hpp"
#include "support/internal_error.hpp"

namespace cep::runtime::native {

namespace {

void writeField(JsonWriter &w, const Schema &schema, const Event &e, std::int32_t field) {
  CEP_ASSERT(e.type < schema.types.size(), "event of an unknown type");
  const EventSchema &type = schema.types[e.type];
  CEP_ASSERT(field >= 0 && static_cast<std::size_t>(field) < type.fields.size() &&
                 static_cast<std::uint32_t>(field) < e.field_count,
             "key field out of range for event type " + type.name);
  if (e.isNull(static_cast<std::uint32_t>(field))) {
    w.writeNull();
    return;
  }
  const Slot &slot = e.slots()[field];
  switch (type.fields[static_cast<std::size_t>(field)].kind) {
  case FieldKind::Bool:
    w.writeBool(slot.b);
    return;
  case FieldKind::Int:
  case FieldKind::Duration:
    w.writeInt(slot.i);
    return;
  case FieldKind::Time:
    w.writeTime(slot.i);
    return;
  case FieldKind::Float:
    w.writeFloat(slot.f);
    return;
  case FieldKind::String:
    w.writeString(slot.s->view());
    return;
  }
}

void writeValue(JsonWriter &w, ValueKind kind, const CepValue &v) {
  if (v.null || kind == ValueKind::Null) {
    w.writeNull();
    return;
  }
  switch (kind) {
  case ValueKind::Null:
    w.writeNull();
    return;
  case ValueKind::Bool:
    w.writeBool(v.b != 0);
    return;
  case ValueKind::Int:
  case ValueKind::Duration:
    w.writeInt(v.i);
    return;
  case ValueKind::Time:
    w.writeTime(v.i);
    return;
  case ValueKind::Float:
    w.writeFloat(v.f);
    return;
  case ValueKind::String:
    w.writeString(std::string_view(v.s, v.n));
    return;
  }
}

} // namespace

void appendKeyJson(std::string &out, const Schema &schema, const PatternImage &image,
                   const Event &rep) {
  if (!image.keyed) {
    out += "null";
    return;
  }
  CEP_ASSERT(rep.type < image.key_fields.size() && !image.key_fields[rep.type].empty(),
             "event type without key fields in pattern " + image.name);
  const auto &fields = image.key_fields[rep.type];
  JsonWriter w(out);
  bool composite = fields.size() > 1;
  if (composite) {
    w.beginArray();
  }
  for (std::int32_t f : fields) {
    writeField(w, schema, rep, f);
  }
  if (composite) {
    w.endArray();
  }
}

void appendRecord(std::string &out, const RecordParts &parts, std::string_view key_json,
                  std::int64_t start, std::int64_t end, bool timeout, const BoundView &view) {
  const PatternImage &image = *parts.image;
  const EmitShape &shape = *parts.shape;
  CEP_ASSERT(parts.fns->size() == shape.fields.size(),
             "emit functions do not match the emit fields of " + image.name);
  JsonWriter w(out);
  w.beginObject();
  w.key("@stream");
  w.writeString(shape.stream);
  w.key("@pattern");
  w.writeString(image.name);
  w.key("@key");
  w.writeRaw(key_json);
  w.key("@start");
  w.writeTime(start);
  w.key("@end");
  w.writeTime(end);
  if (timeout) {
    w.key("@timeout");
    w.writeBool(true);
  }
  for (std::size_t i = 0; i < shape.fields.size(); ++i) {
    const OutputField &field = shape.fields[i];
    w.key(field.name);
    CepValue v{};
    v.null = 1;
    if (field.kind != ValueKind::Null && (*parts.fns)[i] != nullptr) {
      (*parts.fns)[i](nullptr, &view, &v);
    }
    writeValue(w, field.kind, v);
  }
  if (parts.with_events) {
    w.key("@events");
    w.beginObject();
    for (std::size_t s = 0; s < image.steps.size(); ++s) {
      if (image.steps[s].negated) {
        continue; // a negated step binds nothing and cannot be referred to
      }
      w.key(image.steps[s].name);
      w.beginArray();
      for (const Event *e : view.of(static_cast<std::int32_t>(s))) {
        if (e->raw_size > 0) {
          w.writeRaw(e->rawRecord());
        } else {
          w.writeNull(); // the runtime did not keep the record
        }
      }
      w.endArray();
    }
    w.endObject();
  }
  w.endObject();
}

} // namespace cep::runtime::native
