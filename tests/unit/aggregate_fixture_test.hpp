// Rows for the window runtime tests (runtime/aggregate): events of one step with six fields
//   0 n: int?   1 x: float?   2 s: string?   3 b: bool   4 d: duration?   5 ts: time
// built without a schema or decoder, and a driver that runs a WindowAggregator and the
// ReferenceAggregator side by side.
#pragma once

#include "runtime/aggregate/aggregator.hpp"
#include "runtime/aggregate/reference.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cep::runtime::aggregate::testing {

enum Field : std::int32_t { kN = 0, kX = 1, kS = 2, kB = 3, kD = 4, kTs = 5 };

struct Row {
  std::string key;
  std::int64_t time = 0;
  std::uint64_t seq = 0;
  std::optional<std::int64_t> n;
  std::optional<double> x;
  std::optional<std::string> s;
  bool b = false;
  std::optional<std::int64_t> d;
};

// Owns the slots and string blocks an AggInput points at.
class RowInput {
public:
  explicit RowInput(const Row &r) {
    slots_[kN].i = r.n.value_or(0);
    slots_[kX].f = r.x.value_or(0.0);
    slots_[kB].b = r.b;
    slots_[kD].i = r.d.value_or(0);
    slots_[kTs].i = r.time;
    std::uint64_t nulls = 0;
    nulls |= r.n ? 0 : (1U << kN);
    nulls |= r.x ? 0 : (1U << kX);
    nulls |= r.d ? 0 : (1U << kD);
    if (r.s) {
      block_ = std::make_unique<char[]>(sizeof(StringRef) + r.s->size());
      auto *ref = reinterpret_cast<StringRef *>(block_.get());
      ref->size = static_cast<std::uint32_t>(r.s->size());
      std::memcpy(ref->data, r.s->data(), r.s->size());
      slots_[kS].s = ref;
    } else {
      nulls |= 1U << kS;
    }
    in_ = {r.time, r.seq, slots_, nulls};
  }
  const AggInput &get() const { return in_; }

private:
  Slot slots_[6] = {};
  std::unique_ptr<char[]> block_;
  AggInput in_;
};

inline AccumulatorSpec acc(AggFn fn, Field f) {
  static const char *names[] = {"n", "x", "s", "b", "d", "ts"};
  static const FieldKind kinds[] = {FieldKind::Int,  FieldKind::Float,    FieldKind::String,
                                    FieldKind::Bool, FieldKind::Duration, FieldKind::Time};
  return {fn, f, names[f], kinds[f]};
}
inline AccumulatorSpec countAll() {
  return {AggFn::Count, -1, "", FieldKind::Int};
}

} // namespace cep::runtime::aggregate::testing
