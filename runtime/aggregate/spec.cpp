// AggregateSpec names and validation (runtime/aggregate/spec.hpp).
#include "runtime/aggregate/spec.hpp"

#include <stdexcept>

namespace cep::runtime::aggregate {

const char *windowKindName(WindowKind k) {
  switch (k) {
  case WindowKind::Tumbling:
    return "tumbling";
  case WindowKind::Hopping:
    return "hopping";
  case WindowKind::Cumulate:
    return "cumulate";
  case WindowKind::Session:
    return "session";
  case WindowKind::Rolling:
    return "rolling";
  case WindowKind::None:
    return "none";
  }
  return "?";
}

const char *aggFnName(AggFn f) {
  switch (f) {
  case AggFn::Count:
    return "count";
  case AggFn::CountField:
    return "count_field";
  case AggFn::Sum:
    return "sum";
  case AggFn::Avg:
    return "avg";
  case AggFn::Min:
    return "min";
  case AggFn::Max:
    return "max";
  case AggFn::First:
    return "first";
  case AggFn::Last:
    return "last";
  case AggFn::CountDistinct:
    return "count_distinct";
  }
  return "?";
}

FieldKind resultKind(const AccumulatorSpec &a) {
  switch (a.fn) {
  case AggFn::Count:
  case AggFn::CountField:
  case AggFn::CountDistinct:
    return FieldKind::Int;
  case AggFn::Avg:
    return FieldKind::Float;
  default:
    return a.kind;
  }
}

bool isTimeWindow(WindowKind k) {
  return k == WindowKind::Tumbling || k == WindowKind::Hopping || k == WindowKind::Cumulate;
}

void validateSpec(const AggregateSpec &s) {
  auto fail = [&](const std::string &why) {
    throw std::invalid_argument("aggregate " + s.name + ": " + why);
  };
  bool sized = s.window != WindowKind::None;
  if (sized && s.size_ms <= 0) {
    fail("window size must be > 0");
  }
  if (!sized && s.size_ms != 0) {
    fail("window none takes no size");
  }
  if (s.window == WindowKind::Hopping || s.window == WindowKind::Cumulate) {
    if (s.slide_ms <= 0) {
      fail("window step must be > 0");
    }
    if (s.size_ms % s.slide_ms != 0) {
      fail("window size is not a multiple of its step");
    }
  } else if (s.slide_ms != 0) {
    fail(std::string("window ") + windowKindName(s.window) + " takes no step");
  }
  if (s.lateness_ms < 0 || s.ttl_ms < 0) {
    fail("lateness and ttl must be >= 0");
  }
  bool running = s.window == WindowKind::Rolling || s.window == WindowKind::None;
  if (running && s.lateness_ms != 0) {
    fail("lateness is not allowed with rolling and none");
  }
  if (!running && s.ttl_ms != 0) {
    fail("ttl is only allowed with rolling and none");
  }
  for (const AccumulatorSpec &a : s.accumulators) {
    if (a.fn == AggFn::Count) {
      if (a.field != -1) {
        fail("count(p) takes no field");
      }
      continue;
    }
    if (a.field < 0 || a.field >= static_cast<std::int32_t>(kMaxFields)) {
      fail(std::string(aggFnName(a.fn)) + " needs a field");
    }
    bool numeric =
        a.kind == FieldKind::Int || a.kind == FieldKind::Float || a.kind == FieldKind::Duration;
    if ((a.fn == AggFn::Sum || a.fn == AggFn::Avg) && !numeric) {
      fail(std::string(aggFnName(a.fn)) + " of a " + fieldKindName(a.kind));
    }
  }
}

} // namespace cep::runtime::aggregate
