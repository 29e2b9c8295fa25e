// The engine-independent parts of aggregate records (runtime/aggregate/record_writer.hpp).
#include "runtime/aggregate/record_writer.hpp"

#include "runtime/time/time_format.hpp"
#include "support/internal_error.hpp"

#include <cstring>

namespace cep::runtime::aggregate {

namespace {

// `"name":` with the name escaped as JsonWriter::key escapes it.
void appendMemberName(std::string &out, std::string_view name) {
  appendJsonString(out, name);
  out.push_back(':');
}

} // namespace

RecordParts recordParts(const RecordHeader &h, const std::vector<std::string_view> &field_names) {
  RecordParts p;
  p.prefix.push_back('{');
  appendMemberName(p.prefix, "@stream");
  appendJsonString(p.prefix, h.stream);
  p.prefix.push_back(',');
  appendMemberName(p.prefix, "@pattern");
  appendJsonString(p.prefix, h.name);
  if (!h.version.empty()) {
    p.prefix.push_back(',');
    appendMemberName(p.prefix, "@version");
    appendJsonString(p.prefix, h.version);
  }
  p.prefix.push_back(',');
  appendMemberName(p.prefix, "@key");
  for (std::string_view name : field_names) {
    std::string f(1, ',');
    appendMemberName(f, name);
    p.fields.push_back(std::move(f));
  }
  return p;
}

char *writeRecordTime(char *p, DateCache &cache, std::int64_t ms) {
  constexpr std::int64_t kDay = 86'400'000;
  // Years 0000..9999 (formatRfc3339's four-digit years); others are written in full.
  constexpr std::int64_t kFirst = -62'167'219'200'000; // 0000-01-01T00:00:00.000Z
  constexpr std::int64_t kLast = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
  if (ms < kFirst || ms > kLast) {
    return nullptr;
  }
  std::int64_t second = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  auto milli = static_cast<std::uint32_t>(ms - second * 1000);
  char *t = cache.text;
  static_assert(sizeof cache.text == kRecordTimeChars);
  auto two = [t](int at, std::uint32_t v) {
    t[at] = static_cast<char>('0' + v / 10);
    t[at + 1] = static_cast<char>('0' + v % 10);
  };
  if (second == cache.second) { // the usual record: only the milliseconds change
    t[21] = static_cast<char>('0' + milli / 100);
    two(22, milli % 100);
    std::memcpy(p, t, sizeof cache.text);
    return p + sizeof cache.text;
  }
  std::int64_t day = ms >= 0 ? ms / kDay : -((-ms + kDay - 1) / kDay);
  if (day != cache.day) {
    char full[kMaxRfc3339Chars];
    std::size_t n = formatRfc3339(day * kDay, full);
    CEP_ASSERT(n == 24, "a four-digit year's time is 24 characters");
    std::memcpy(cache.date, full, sizeof cache.date);
    cache.day = day;
  }
  auto s = static_cast<std::uint32_t>(second - day * (kDay / 1000));
  cache.second = second;
  t[0] = '"';
  std::memcpy(t + 1, cache.date, sizeof cache.date);
  two(12, s / 3600);
  t[14] = ':';
  two(15, s / 60 % 60);
  t[17] = ':';
  two(18, s % 60);
  t[20] = '.';
  t[21] = static_cast<char>('0' + milli / 100);
  two(22, milli % 100);
  t[24] = 'Z';
  t[25] = '"';
  std::memcpy(p, t, sizeof cache.text);
  return p + sizeof cache.text;
}

void appendRecordTime(std::string &json, DateCache &cache, std::int64_t ms) {
  char text[kRecordTimeChars];
  char *end = writeRecordTime(text, cache, ms);
  if (end == nullptr) {
    appendJsonTime(json, ms);
    return;
  }
  json.append(text, end);
}

void beginAggregateRecord(std::string &json, const RecordParts &parts, const WindowResult &r) {
  json.append(parts.prefix);
  appendJsonValue(json, r.key);
  json.append(",\"@start\":");
  appendRecordTime(json, parts.start, r.start);
  json.append(",\"@end\":");
  appendRecordTime(json, parts.end, r.end);
  if (r.revision > 0) {
    json.append(",\"@revision\":");
    appendJsonInt(json, r.revision);
  }
}

void endAggregateRecord(std::string &json, const WindowResult &r,
                        const std::map<std::uint64_t, EventRef> *events,
                        std::string_view step_name) {
  if (events != nullptr) {
    if (r.events_kept) {
      json.append(",\"@events\":{");
      appendMemberName(json, step_name);
      json.push_back('[');
      bool first = true;
      for (const EventId &id : r.events) {
        auto it = events->find(id.seq);
        CEP_ASSERT(it != events->end(), "a window's event was not kept");
        if (!first) {
          json.push_back(',');
        }
        first = false;
        appendJsonValue(json, it->second->rawRecord());
      }
      json.append("]}");
    } else {
      json.append(",\"@events_omitted\":");
      appendJsonInt(json, static_cast<std::int64_t>(r.event_count));
    }
  }
  json.push_back('}');
}

MatchOutput windowOutput(const WindowResult &r, const Event *at) {
  MatchOutput o;
  if (at != nullptr) {
    o.completion_time = at->time;
    o.completion_seq = at->seq;
  } else {
    o.completion_time = r.end - 1; // the watermark that closes the window
    o.time_driven = true;
  }
  o.start_time = r.start;
  o.start_seq = r.order;
  return o;
}

} // namespace cep::runtime::aggregate
