// Values and results of the window runtime (runtime/aggregate/result.hpp).
#include "runtime/aggregate/result.hpp"

#include <cstring>
#include <sstream>
#include <tuple>

namespace cep::runtime::aggregate {

AggValue AggValue::ofInt(FieldKind k, std::int64_t v) {
  AggValue r;
  r.kind = k;
  r.null = false;
  r.i = v;
  return r;
}

AggValue AggValue::ofFloat(double v) {
  AggValue r;
  r.kind = FieldKind::Float;
  r.null = false;
  r.f = v;
  return r;
}

AggValue AggValue::ofString(std::string_view v) {
  AggValue r;
  r.kind = FieldKind::String;
  r.null = false;
  r.s = std::string(v);
  return r;
}

AggValue AggValue::nullOf(FieldKind k) {
  AggValue r;
  r.kind = k;
  return r;
}

bool AggValue::operator==(const AggValue &o) const {
  if (kind != o.kind || null != o.null) {
    return false;
  }
  if (null) {
    return true;
  }
  switch (kind) {
  case FieldKind::Float:
    return std::memcmp(&f, &o.f, sizeof f) == 0;
  case FieldKind::String:
    return s == o.s;
  default:
    return i == o.i;
  }
}

bool WindowResult::operator==(const WindowResult &o) const {
  return key == o.key && start == o.start && end == o.end && revision == o.revision &&
         order == o.order && values == o.values && event_count == o.event_count &&
         events_kept == o.events_kept && events == o.events;
}

bool resultBefore(const WindowResult &a, const WindowResult &b) {
  return std::tie(a.end, a.start, a.order) < std::tie(b.end, b.start, b.order);
}

std::string describe(const WindowResult &r) {
  std::ostringstream os;
  os << r.key << " [" << r.start << "," << r.end << ")";
  if (r.revision > 0) {
    os << " rev " << r.revision;
  }
  os << " order " << r.order << ":";
  for (const AggValue &v : r.values) {
    os << ' ';
    if (v.null) {
      os << "null";
    } else if (v.kind == FieldKind::Float) {
      os << v.f;
    } else if (v.kind == FieldKind::String) {
      os << '"' << v.s << '"';
    } else {
      os << v.i;
    }
  }
  os << " (" << r.event_count << " events";
  if (r.events_kept) {
    for (const EventId &e : r.events) {
      os << ' ' << e.time << '#' << e.seq;
    }
  }
  os << ')';
  return os.str();
}

} // namespace cep::runtime::aggregate
