// The engine-independent parts of aggregate records (runtime/aggregate/record_writer.hpp).
#include "runtime/aggregate/record_writer.hpp"

#include "support/internal_error.hpp"

namespace cep::runtime::aggregate {

void beginAggregateRecord(JsonWriter &w, const RecordHeader &h, const WindowResult &r) {
  w.beginObject();
  w.key("@stream");
  w.writeString(h.stream);
  w.key("@pattern");
  w.writeString(h.name);
  if (!h.version.empty()) {
    w.key("@version");
    w.writeString(h.version);
  }
  w.key("@key");
  w.writeRaw(r.key);
  w.key("@start");
  w.writeTime(r.start);
  w.key("@end");
  w.writeTime(r.end);
  if (r.revision > 0) {
    w.key("@revision");
    w.writeInt(r.revision);
  }
}

void endAggregateRecord(JsonWriter &w, const WindowResult &r,
                        const std::map<std::uint64_t, EventRef> *events,
                        std::string_view step_name) {
  if (events != nullptr) {
    if (r.events_kept) {
      w.key("@events");
      w.beginObject();
      w.key(step_name);
      w.beginArray();
      for (const EventId &id : r.events) {
        auto it = events->find(id.seq);
        CEP_ASSERT(it != events->end(), "a window's event was not kept");
        w.writeRaw(it->second->rawRecord());
      }
      w.endArray();
      w.endObject();
    } else {
      w.key("@events_omitted");
      w.writeInt(static_cast<std::int64_t>(r.event_count));
    }
  }
  w.endObject();
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
