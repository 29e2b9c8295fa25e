// Output records and "@key" text of the native matcher (see native_record.hpp).
#include "runtime/native/native_record.hpp"

#include "runtime/io/json_writer.hpp"
#include "runtime/time/time_format.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cstring>

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

} // namespace

void appendKeyJson(std::string &out, const Schema &schema, const PatternImage &image,
                   const Event &rep) {
  if (!image.keyed) {
    out += "null";
    return;
  }
  CEP_ASSERT(rep.type < image.key_fields.size() && !image.key_fields[rep.type].empty(),
             "event type without key fields in pattern " + image.name);
  appendKeyFields(out, schema, rep, image.key_fields[rep.type]);
}

void appendKeyFields(std::string &out, const Schema &schema, const Event &rep,
                     const std::vector<std::int32_t> &fields) {
  if (fields.empty()) {
    out += "null";
    return;
  }
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

// --- TimeText ---------------------------------------------------------------------------------

namespace {

constexpr std::int64_t kFastTimeEnd = 253402300800000; // 10000-01-01T00:00:00Z

constexpr char kDigitPairs[201] = "00010203040506070809"
                                  "10111213141516171819"
                                  "20212223242526272829"
                                  "30313233343536373839"
                                  "40414243444546474849"
                                  "50515253545556575859"
                                  "60616263646566676869"
                                  "70717273747576777879"
                                  "80818283848586878889"
                                  "90919293949596979899";

void twoDigits(char *p, std::uint32_t v) {
  p[0] = kDigitPairs[2 * v];
  p[1] = kDigitPairs[2 * v + 1];
}

} // namespace

void TimeText::append(std::string &out, std::int64_t epoch_ms) {
  if (epoch_ms < 0 || epoch_ms >= kFastTimeEnd) {
    appendJsonTime(out, epoch_ms);
    return;
  }
  for (unsigned i = 0; i < 2; ++i) {
    if (recent_[i] == epoch_ms) {
      out.append(recent_text_[i], sizeof recent_text_[i]);
      return;
    }
  }
  std::int64_t day = epoch_ms / kMillisPerDay;
  auto ms = static_cast<std::uint32_t>(epoch_ms % kMillisPerDay);
  if (day != day_) {
    char buffer[kMaxRfc3339Chars];
    std::size_t n = formatRfc3339(day * kMillisPerDay, buffer);
    CEP_ASSERT(n == 24 && buffer[10] == 'T', "unexpected RFC 3339 text of a day");
    std::memcpy(date_, buffer, sizeof date_);
    day_ = day;
  }
  // "YYYY-MM-DDTHH:MM:SS.mmmZ" in quotes.
  char text[26];
  text[0] = '"';
  std::memcpy(text + 1, date_, sizeof date_);
  std::uint32_t seconds = ms / 1000;
  std::uint32_t millis = ms % 1000;
  twoDigits(text + 12, seconds / 3600);
  text[14] = ':';
  twoDigits(text + 15, seconds / 60 % 60);
  text[17] = ':';
  twoDigits(text + 18, seconds % 60);
  text[20] = '.';
  text[21] = static_cast<char>('0' + millis / 100);
  twoDigits(text + 22, millis % 100);
  text[24] = 'Z';
  text[25] = '"';
  out.append(text, sizeof text);
  static_assert(sizeof text == sizeof recent_text_[0]);
  std::memcpy(recent_text_[next_], text, sizeof text);
  recent_[next_] = epoch_ms;
  next_ ^= 1;
}

// --- RecordWriter -----------------------------------------------------------------------------

namespace {

std::string memberKey(std::string_view name, bool comma) {
  std::string s = comma ? "," : "";
  appendJsonString(s, name);
  s.push_back(':');
  return s;
}

} // namespace

RecordWriter::RecordWriter(std::shared_ptr<const Schema> schema,
                           std::shared_ptr<const PatternImage> image, const EmitShape &shape,
                           const std::vector<CepValueFn> &fns, bool with_events,
                           std::string_view version)
    : schema_(std::move(schema)), image_(std::move(image)), fns_(fns), with_events_(with_events) {
  CEP_ASSERT(schema_ && image_, "record writer without a schema or image");
  CEP_ASSERT(fns_.size() == shape.fields.size(),
             "emit functions do not match the emit fields of " + image_->name);
  head_.push_back('{');
  head_ += memberKey("@stream", false);
  appendJsonString(head_, shape.stream);
  head_ += memberKey("@pattern", true);
  appendJsonString(head_, image_->name);
  if (!version.empty()) {
    head_ += memberKey("@version", true);
    appendJsonString(head_, version);
  }
  head_ += memberKey("@key", true);
  for (const OutputField &field : shape.fields) {
    kinds_.push_back(field.kind);
    field_keys_.push_back(memberKey(field.name, true));
  }
  if (image_->keyed) {
    key_fields_.resize(image_->key_fields.size());
    for (std::size_t t = 0; t < image_->key_fields.size(); ++t) {
      for (std::int32_t f : image_->key_fields[t]) {
        CEP_ASSERT(t < schema_->types.size() && f >= 0 &&
                       static_cast<std::size_t>(f) < schema_->types[t].fields.size(),
                   "key field out of range in pattern " + image_->name);
        key_fields_[t].emplace_back(f, schema_->types[t].fields[static_cast<std::size_t>(f)].kind);
      }
    }
  }
  bool first = true;
  for (std::size_t s = 0; s < image_->steps.size(); ++s) {
    if (image_->steps[s].negated) {
      continue; // a negated step binds nothing and cannot be referred to
    }
    event_keys_.emplace_back(static_cast<std::int32_t>(s),
                             memberKey(image_->steps[s].name, !first) + "[");
    first = false;
  }
}

void RecordWriter::appendField(std::string &out, const Event &e, std::int32_t field,
                               FieldKind kind) {
  CEP_ASSERT(static_cast<std::uint32_t>(field) < e.field_count,
             "key field out of range in pattern " + image_->name);
  if (e.isNull(static_cast<std::uint32_t>(field))) {
    out.append("null");
    return;
  }
  const Slot &slot = e.slots()[field];
  switch (kind) {
  case FieldKind::Bool:
    out.append(slot.b ? "true" : "false");
    return;
  case FieldKind::Int:
  case FieldKind::Duration:
    appendJsonInt(out, slot.i);
    return;
  case FieldKind::Time:
    time_.append(out, slot.i);
    return;
  case FieldKind::Float:
    appendJsonFloat(out, slot.f);
    return;
  case FieldKind::String:
    appendJsonString(out, slot.s->view());
    return;
  }
}

void RecordWriter::appendKey(std::string &out, const Event &rep) {
  if (!image_->keyed) {
    out.append("null");
    return;
  }
  CEP_ASSERT(rep.type < key_fields_.size() && !key_fields_[rep.type].empty(),
             "event type without key fields in pattern " + image_->name);
  const auto &fields = key_fields_[rep.type];
  if (fields.size() == 1) {
    appendField(out, rep, fields[0].first, fields[0].second);
    return;
  }
  out.push_back('[');
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      out.push_back(',');
    }
    appendField(out, rep, fields[i].first, fields[i].second);
  }
  out.push_back(']');
}

void RecordWriter::append(std::string &out, const Event &rep, std::int64_t start, std::int64_t end,
                          bool timeout, const BoundView &view) {
  std::size_t begin = out.size();
  out.reserve(begin + size_hint_);
  out.append(head_);
  appendKey(out, rep);
  out.append(",\"@start\":");
  time_.append(out, start);
  out.append(",\"@end\":");
  time_.append(out, end);
  if (timeout) {
    out.append(",\"@timeout\":true");
  }
  for (std::size_t i = 0; i < field_keys_.size(); ++i) {
    out.append(field_keys_[i]);
    ValueKind kind = kinds_[i];
    CepValue v{};
    v.null = 1;
    if (kind != ValueKind::Null && fns_[i] != nullptr) {
      fns_[i](nullptr, &view, &v);
    }
    if (v.null || kind == ValueKind::Null) {
      out.append("null");
      continue;
    }
    switch (kind) {
    case ValueKind::Null:
      out.append("null");
      break;
    case ValueKind::Bool:
      out.append(v.b != 0 ? "true" : "false");
      break;
    case ValueKind::Int:
    case ValueKind::Duration:
      appendJsonInt(out, v.i);
      break;
    case ValueKind::Time:
      time_.append(out, v.i);
      break;
    case ValueKind::Float:
      appendJsonFloat(out, v.f);
      break;
    case ValueKind::String:
      appendJsonString(out, std::string_view(v.s, v.n));
      break;
    }
  }
  if (with_events_) {
    out.append(",\"@events\":{");
    for (const auto &[step, key] : event_keys_) {
      out.append(key);
      bool first = true;
      for (const Event *e : view.of(step)) {
        if (!first) {
          out.push_back(',');
        }
        first = false;
        if (e->raw_size > 0) {
          appendJsonValue(out, e->rawRecord());
        } else {
          out.append("null"); // the runtime did not keep the record
        }
      }
      out.push_back(']');
    }
    out.push_back('}');
  }
  out.push_back('}');
  size_hint_ = std::max(size_hint_, out.size() - begin);
}

} // namespace cep::runtime::native
