// Accumulator cells (runtime/aggregate/cell.hpp).
#include "runtime/aggregate/cell.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace cep::runtime::aggregate {

namespace {

std::string *str(const Slot &s) {
  return reinterpret_cast<std::string *>(static_cast<std::uintptr_t>(s.i));
}
void setStr(Slot &s, std::string *p) {
  s.i = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(p));
}
DistinctSet *distinct(const Slot &s) {
  return reinterpret_cast<DistinctSet *>(static_cast<std::uintptr_t>(s.i));
}
EventList *events(const Slot &s) {
  return reinterpret_cast<EventList *>(static_cast<std::uintptr_t>(s.i));
}
template <class T> void setPtr(Slot &s, T *p) {
  s.i = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(p));
}

std::int64_t wrapAdd(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

bool isFloat(FieldKind k) {
  return k == FieldKind::Float;
}

std::string_view inputString(const AggInput &in, std::int32_t f) {
  return in.fields[f].s->view();
}

// <0, 0, >0: a cell value against an input value, both non-null.
int compareSlot(FieldKind k, const Slot &a, const Slot &b) {
  switch (k) {
  case FieldKind::Float:
    return a.f < b.f ? -1 : (b.f < a.f ? 1 : 0);
  case FieldKind::String:
    return str(a)->compare(*str(b));
  default:
    return a.i < b.i ? -1 : (b.i < a.i ? 1 : 0);
  }
}

AggValue valueFromSlot(FieldKind k, const Slot &v) {
  switch (k) {
  case FieldKind::Float:
    return AggValue::ofFloat(v.f);
  case FieldKind::String:
    return AggValue::ofString(*str(v));
  default:
    return AggValue::ofInt(k, v.i);
  }
}

void writeSlot(SnapshotWriter &w, FieldKind k, const Slot &v) {
  switch (k) {
  case FieldKind::Bool:
    w.u8(v.i ? 1 : 0);
    break;
  case FieldKind::Float:
    w.f64(v.f);
    break;
  case FieldKind::String:
    w.str(*str(v));
    break;
  default:
    w.i64(v.i);
  }
}

// Reads a value into a cell slot (a string is allocated).
void readSlot(SnapshotReader &r, FieldKind k, Slot &v) {
  switch (k) {
  case FieldKind::Bool:
    v.i = r.flag("bool value") ? 1 : 0;
    break;
  case FieldKind::Float:
    v.f = r.f64();
    break;
  case FieldKind::String:
    setStr(v, new std::string(r.str()));
    break;
  default:
    v.i = r.i64();
  }
}

// Sets the value slot `v` (of kind k) to field f of `in`, replacing a string it held.
void assign(Slot &v, const AggInput &in, std::int32_t f, FieldKind k) {
  if (k == FieldKind::String) {
    if (str(v) == nullptr) {
      setStr(v, new std::string(inputString(in, f)));
    } else {
      str(v)->assign(inputString(in, f));
    }
    return;
  }
  v = numericSlot(in, f, k);
}

// Copies a cell value slot (strings deep).
void assignSlot(Slot &dst, const Slot &src, FieldKind k) {
  if (k == FieldKind::String) {
    if (str(dst) == nullptr) {
      setStr(dst, new std::string(*str(src)));
    } else {
      str(dst)->assign(*str(src));
    }
    return;
  }
  dst = src;
}

std::size_t stringHeap(const std::string *s) {
  if (s == nullptr) {
    return 0;
  }
  std::size_t n = sizeof(std::string);
  if (s->capacity() > 15) {
    n += s->capacity() + 1;
  }
  return n;
}

constexpr std::int64_t kHas = 1;
constexpr std::int64_t kNull = 2;

} // namespace

Slot numericSlot(const AggInput &in, std::int32_t f, FieldKind k) {
  Slot v = in.fields[f];
  if (k == FieldKind::Bool) {
    Slot r;
    r.i = v.b ? 1 : 0;
    return r;
  }
  return v;
}

std::size_t DistinctSet::heapBytes() const {
  // Buckets, then one node per value (the next pointer, the key, the count, the cached hash),
  // plus the bytes of strings too long for the small-string buffer.
  std::size_t n = counts.bucket_count() * sizeof(void *);
  for (const auto &[k, c] : counts) {
    n += sizeof(void *) + sizeof(DistinctKey) + sizeof(std::uint64_t) + sizeof(std::size_t);
    if (k.capacity() > 15) {
      n += k.capacity() + 1;
    }
  }
  return n;
}

DistinctKey distinctKey(FieldKind k, const Slot &v) {
  if (k == FieldKind::String) {
    std::string_view s = v.s->view();
    return DistinctKey(s);
  }
  std::int64_t bits = v.i;
  if (k == FieldKind::Bool) {
    bits = v.b ? 1 : 0;
  } else if (k == FieldKind::Float && v.f == 0.0) {
    bits = 0; // -0.0 and 0.0 are one value
  }
  char b[8];
  std::memcpy(b, &bits, 8);
  return DistinctKey(b, 8);
}

DistinctKey distinctKeyOf(const AggValue &v) {
  if (v.kind == FieldKind::String) {
    return DistinctKey(v.s);
  }
  std::int64_t bits = v.i;
  if (v.kind == FieldKind::Float) {
    double f = v.f == 0.0 ? 0.0 : v.f; // -0.0 and 0.0 are one value
    std::memcpy(&bits, &f, 8);
  }
  char b[8];
  std::memcpy(b, &bits, 8);
  return DistinctKey(b, 8);
}

CellLayout::CellLayout(const AggregateSpec &spec) : spec_(&spec) {
  std::uint32_t next = 1;
  for (const AccumulatorSpec &a : spec.accumulators) {
    offset_.push_back(next);
    switch (a.fn) {
    case AggFn::Count:
      break;
    case AggFn::CountField:
    case AggFn::Sum:
    case AggFn::CountDistinct:
      next += 1;
      break;
    case AggFn::Avg:
    case AggFn::Min:
    case AggFn::Max:
      next += 2;
      break;
    case AggFn::First:
    case AggFn::Last:
      next += 4;
      break;
    }
  }
  if (spec.keep_events) {
    events_slot_ = next++;
  }
  width_ = next;
  counts_only_ = width_ == 1; // every accumulator is count(p), no events kept
}

void CellLayout::init(Slot *c) const {
  std::memset(static_cast<void *>(c), 0, width_ * sizeof(Slot));
}

void CellLayout::add(Slot *c, const AggInput &in) const {
  ++c[0].i;
  if (counts_only_) {
    return;
  }
  addAccs(c + 1, count(c), in);
}

void CellLayout::addAccs(Slot *accs, std::uint64_t n, const AggInput &in) const {
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    const AccumulatorSpec &a = spec_->accumulators[k];
    Slot *s = accs + (offset_[k] - 1);
    if (a.fn == AggFn::Count) {
      continue;
    }
    bool null = in.isNull(a.field);
    switch (a.fn) {
    case AggFn::Count:
      break;
    case AggFn::CountField:
      s[0].i += null ? 0 : 1;
      break;
    case AggFn::Sum:
    case AggFn::Avg:
      if (!null) {
        if (isFloat(a.kind)) {
          s[0].f += in.fields[a.field].f;
        } else {
          s[0].i = wrapAdd(s[0].i, in.fields[a.field].i);
        }
        if (a.fn == AggFn::Avg) {
          ++s[1].i;
        }
      }
      break;
    case AggFn::Min:
    case AggFn::Max:
      if (!null) {
        bool better = s[1].i == 0;
        if (!better) {
          int cmp;
          if (a.kind == FieldKind::String) {
            cmp = str(s[0])->compare(inputString(in, a.field));
          } else {
            Slot v = numericSlot(in, a.field, a.kind);
            cmp = compareSlot(a.kind, s[0], v);
          }
          better = a.fn == AggFn::Min ? cmp > 0 : cmp < 0;
        }
        if (better) {
          assign(s[0], in, a.field, a.kind);
          s[1].i = 1;
        }
      }
      break;
    case AggFn::First:
    case AggFn::Last: {
      bool has = (s[3].i & kHas) != 0;
      bool replace = !has;
      if (has) {
        auto mine = std::make_tuple(s[0].i, static_cast<std::uint64_t>(s[1].i));
        auto theirs = std::make_tuple(in.time, in.seq);
        replace = a.fn == AggFn::First ? theirs < mine : mine < theirs;
      }
      if (replace) {
        s[0].i = in.time;
        s[1].i = static_cast<std::int64_t>(in.seq);
        s[3].i = kHas | (null ? kNull : 0);
        if (!null) {
          assign(s[2], in, a.field, a.kind);
        }
      }
      break;
    }
    case AggFn::CountDistinct:
      if (!null) {
        if (distinct(s[0]) == nullptr) {
          setPtr(s[0], new DistinctSet);
        }
        ++distinct(s[0])->counts[distinctKey(a.kind, in.fields[a.field])];
      }
      break;
    }
  }
  if (events_slot_ != 0) {
    EventList *l = events(accs[events_slot_ - 1]);
    if (l == nullptr) {
      l = new EventList;
      setPtr(accs[events_slot_ - 1], l);
    }
    if (!l->overflow) {
      if (n > kMaxEventsKept) {
        l->overflow = true;
        std::vector<EventId>().swap(l->ids);
      } else {
        l->ids.push_back({in.time, in.seq});
      }
    }
  }
}

void CellLayout::combine(Slot *dst, const Slot *src) const {
  dst[0].i += src[0].i;
  if (counts_only_) {
    return;
  }
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    const AccumulatorSpec &a = spec_->accumulators[k];
    Slot *d = dst + offset_[k];
    const Slot *s = src + offset_[k];
    switch (a.fn) {
    case AggFn::Count:
      break;
    case AggFn::CountField:
      d[0].i += s[0].i;
      break;
    case AggFn::Sum:
    case AggFn::Avg:
      if (isFloat(a.kind)) {
        d[0].f += s[0].f;
      } else {
        d[0].i = wrapAdd(d[0].i, s[0].i);
      }
      if (a.fn == AggFn::Avg) {
        d[1].i += s[1].i;
      }
      break;
    case AggFn::Min:
    case AggFn::Max:
      if (s[1].i != 0) {
        bool better = d[1].i == 0;
        if (!better) {
          int cmp = compareSlot(a.kind, d[0], s[0]);
          better = a.fn == AggFn::Min ? cmp > 0 : cmp < 0;
        }
        if (better) {
          assignSlot(d[0], s[0], a.kind);
          d[1].i = 1;
        }
      }
      break;
    case AggFn::First:
    case AggFn::Last:
      if ((s[3].i & kHas) != 0) {
        bool replace = (d[3].i & kHas) == 0;
        if (!replace) {
          auto mine = std::make_tuple(d[0].i, static_cast<std::uint64_t>(d[1].i));
          auto theirs = std::make_tuple(s[0].i, static_cast<std::uint64_t>(s[1].i));
          replace = a.fn == AggFn::First ? theirs < mine : mine < theirs;
        }
        if (replace) {
          d[0] = s[0];
          d[1] = s[1];
          d[3] = s[3];
          if ((s[3].i & kNull) == 0) {
            assignSlot(d[2], s[2], a.kind);
          }
        }
      }
      break;
    case AggFn::CountDistinct:
      if (distinct(s[0]) != nullptr) {
        if (distinct(d[0]) == nullptr) {
          setPtr(d[0], new DistinctSet);
        }
        for (const auto &[v, n] : distinct(s[0])->counts) {
          distinct(d[0])->counts[v] += n;
        }
      }
      break;
    }
  }
  if (events_slot_ != 0) {
    const EventList *sl = events(src[events_slot_]);
    EventList *dl = events(dst[events_slot_]);
    if (dl == nullptr) {
      dl = new EventList;
      setPtr(dst[events_slot_], dl);
    }
    if (count(dst) > kMaxEventsKept) {
      if (!dl->overflow) {
        dl->overflow = true;
        std::vector<EventId>().swap(dl->ids);
      }
    } else if (sl != nullptr) {
      dl->ids.insert(dl->ids.end(), sl->ids.begin(), sl->ids.end());
    }
  }
}

void CellLayout::destroy(Slot *c) const {
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    const AccumulatorSpec &a = spec_->accumulators[k];
    Slot *s = c + offset_[k];
    switch (a.fn) {
    case AggFn::Min:
    case AggFn::Max:
      if (a.kind == FieldKind::String) {
        delete str(s[0]);
      }
      break;
    case AggFn::First:
    case AggFn::Last:
      if (a.kind == FieldKind::String) {
        delete str(s[2]);
      }
      break;
    case AggFn::CountDistinct:
      delete distinct(s[0]);
      break;
    default:
      break;
    }
  }
  if (events_slot_ != 0) {
    delete events(c[events_slot_]);
  }
  init(c);
}

AggValue CellLayout::result(const Slot *c, std::size_t acc) const {
  const AccumulatorSpec &a = spec_->accumulators[acc];
  const Slot *s = c + offset_[acc];
  switch (a.fn) {
  case AggFn::Count:
    return AggValue::ofInt(FieldKind::Int, c[0].i);
  case AggFn::CountField:
    return AggValue::ofInt(FieldKind::Int, s[0].i);
  case AggFn::Sum:
    return isFloat(a.kind) ? AggValue::ofFloat(s[0].f) : AggValue::ofInt(a.kind, s[0].i);
  case AggFn::Avg:
    if (s[1].i == 0) {
      return AggValue::nullOf(FieldKind::Float);
    }
    return AggValue::ofFloat((isFloat(a.kind) ? s[0].f : static_cast<double>(s[0].i)) /
                             static_cast<double>(s[1].i));
  case AggFn::Min:
  case AggFn::Max:
    return s[1].i != 0 ? valueFromSlot(a.kind, s[0]) : AggValue::nullOf(a.kind);
  case AggFn::First:
  case AggFn::Last:
    if ((s[3].i & kHas) == 0 || (s[3].i & kNull) != 0) {
      return AggValue::nullOf(a.kind);
    }
    return valueFromSlot(a.kind, s[2]);
  case AggFn::CountDistinct:
    return AggValue::ofInt(
        FieldKind::Int,
        distinct(s[0]) == nullptr ? 0 : static_cast<std::int64_t>(distinct(s[0])->counts.size()));
  }
  return AggValue::nullOf(a.kind);
}

void CellLayout::fill(const Slot *c, WindowResult &r) const {
  r.values.clear();
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    r.values.push_back(result(c, k));
  }
  r.event_count = count(c);
  r.events.clear();
  r.events_kept = false;
  if (events_slot_ != 0 && count(c) <= kMaxEventsKept) {
    r.events_kept = true;
    if (const EventList *l = events(c[events_slot_])) {
      r.events = l->ids;
      std::sort(r.events.begin(), r.events.end(), [](const EventId &a, const EventId &b) {
        return std::tie(a.time, a.seq) < std::tie(b.time, b.seq);
      });
    }
  }
}

std::size_t CellLayout::distinctBytes(const Slot *c) const {
  std::size_t n = 0;
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    if (spec_->accumulators[k].fn == AggFn::CountDistinct) {
      if (const DistinctSet *d = distinct(c[offset_[k]])) {
        n += sizeof(DistinctSet) + d->heapBytes();
      }
    }
  }
  return n;
}

std::size_t CellLayout::heapBytes(const Slot *c) const {
  std::size_t n = distinctBytes(c);
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    const AccumulatorSpec &a = spec_->accumulators[k];
    if (a.kind != FieldKind::String) {
      continue;
    }
    if (a.fn == AggFn::Min || a.fn == AggFn::Max) {
      n += stringHeap(str(c[offset_[k]]));
    } else if (a.fn == AggFn::First || a.fn == AggFn::Last) {
      n += stringHeap(str(c[offset_[k] + 2]));
    }
  }
  if (events_slot_ != 0) {
    if (const EventList *l = events(c[events_slot_])) {
      n += sizeof(EventList) + l->ids.capacity() * sizeof(EventId);
    }
  }
  return n;
}

void CellLayout::write(SnapshotWriter &w, const Slot *c) const {
  w.u64(count(c));
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    const AccumulatorSpec &a = spec_->accumulators[k];
    const Slot *s = c + offset_[k];
    switch (a.fn) {
    case AggFn::Count:
      break;
    case AggFn::CountField:
      w.u64(static_cast<std::uint64_t>(s[0].i));
      break;
    case AggFn::Sum:
    case AggFn::Avg:
      isFloat(a.kind) ? w.f64(s[0].f) : w.i64(s[0].i);
      if (a.fn == AggFn::Avg) {
        w.u64(static_cast<std::uint64_t>(s[1].i));
      }
      break;
    case AggFn::Min:
    case AggFn::Max:
      w.u8(s[1].i != 0 ? 1 : 0);
      if (s[1].i != 0) {
        writeSlot(w, a.kind, s[0]);
      }
      break;
    case AggFn::First:
    case AggFn::Last: {
      bool has = (s[3].i & kHas) != 0;
      w.u8(has ? 1 : 0);
      if (has) {
        bool null = (s[3].i & kNull) != 0;
        w.i64(s[0].i);
        w.u64(static_cast<std::uint64_t>(s[1].i));
        w.u8(null ? 1 : 0);
        if (!null) {
          writeSlot(w, a.kind, s[2]);
        }
      }
      break;
    }
    case AggFn::CountDistinct: {
      std::vector<std::pair<DistinctKey, std::uint64_t>> vs;
      if (const DistinctSet *d = distinct(s[0])) {
        vs.assign(d->counts.begin(), d->counts.end());
      }
      std::sort(vs.begin(), vs.end());
      w.u64(vs.size());
      for (const auto &[v, n] : vs) {
        w.str(v);
        w.u64(n);
      }
      break;
    }
    }
  }
  if (events_slot_ != 0) {
    const EventList *l = events(c[events_slot_]);
    w.u8(l != nullptr && l->overflow ? 1 : 0);
    w.u64(l == nullptr ? 0 : l->ids.size());
    if (l != nullptr) {
      // In (time, arrival) order, not the order merges left them in: the same events give the
      // same bytes whichever runtime (the reference folds in another order) wrote them.
      std::vector<EventId> ids = l->ids;
      std::sort(ids.begin(), ids.end(), [](const EventId &a, const EventId &b) {
        return std::tie(a.time, a.seq) < std::tie(b.time, b.seq);
      });
      for (const EventId &e : ids) {
        w.i64(e.time);
        w.u64(e.seq);
      }
    }
  }
}

void CellLayout::read(SnapshotReader &r, Slot *c) const {
  c[0].i = static_cast<std::int64_t>(r.u64());
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    const AccumulatorSpec &a = spec_->accumulators[k];
    Slot *s = c + offset_[k];
    switch (a.fn) {
    case AggFn::Count:
      break;
    case AggFn::CountField:
      s[0].i = static_cast<std::int64_t>(r.u64());
      break;
    case AggFn::Sum:
    case AggFn::Avg:
      if (isFloat(a.kind)) {
        s[0].f = r.f64();
      } else {
        s[0].i = r.i64();
      }
      if (a.fn == AggFn::Avg) {
        s[1].i = static_cast<std::int64_t>(r.u64());
      }
      break;
    case AggFn::Min:
    case AggFn::Max:
      if (r.flag("min/max present")) {
        readSlot(r, a.kind, s[0]);
        s[1].i = 1;
      }
      break;
    case AggFn::First:
    case AggFn::Last:
      if (r.flag("first/last present")) {
        s[0].i = r.i64();
        s[1].i = static_cast<std::int64_t>(r.u64());
        bool null = r.flag("first/last null");
        s[3].i = kHas | (null ? kNull : 0);
        if (!null) {
          readSlot(r, a.kind, s[2]);
        }
      }
      break;
    case AggFn::CountDistinct: {
      std::uint64_t n = r.count(4 + 8);
      if (n > 0) {
        auto *d = new DistinctSet;
        setPtr(s[0], d);
        for (std::uint64_t i = 0; i < n; ++i) {
          DistinctKey v(r.str());
          d->counts[v] = r.u64();
        }
      }
      break;
    }
    }
  }
  if (events_slot_ != 0) {
    auto *l = new EventList;
    setPtr(c[events_slot_], l);
    l->overflow = r.flag("events overflow");
    std::uint64_t n = r.count(16);
    for (std::uint64_t i = 0; i < n; ++i) {
      EventId e;
      e.time = r.i64();
      e.seq = r.u64();
      l->ids.push_back(e);
    }
  }
}

CellState CellLayout::exportState(const Slot *c) const {
  CellState st;
  st.events = count(c);
  st.accs.resize(offset_.size());
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    const AccumulatorSpec &a = spec_->accumulators[k];
    const Slot *s = c + offset_[k];
    AccState &x = st.accs[k];
    x.value = AggValue::nullOf(a.kind);
    switch (a.fn) {
    case AggFn::Count:
      break;
    case AggFn::CountField:
      x.n = s[0].i;
      break;
    case AggFn::Sum:
    case AggFn::Avg:
      if (isFloat(a.kind)) {
        x.fsum = s[0].f;
      } else {
        x.isum = s[0].i;
      }
      if (a.fn == AggFn::Avg) {
        x.n = s[1].i;
      }
      break;
    case AggFn::Min:
    case AggFn::Max:
      x.has = s[1].i != 0;
      if (x.has) {
        x.value = valueFromSlot(a.kind, s[0]);
      }
      break;
    case AggFn::First:
    case AggFn::Last:
      x.has = (s[3].i & kHas) != 0;
      if (x.has) {
        x.time = s[0].i;
        x.seq = static_cast<std::uint64_t>(s[1].i);
        if ((s[3].i & kNull) == 0) {
          x.value = valueFromSlot(a.kind, s[2]);
        }
      }
      break;
    case AggFn::CountDistinct:
      if (const DistinctSet *d = distinct(s[0])) {
        x.distinct.insert(d->counts.begin(), d->counts.end());
      }
      break;
    }
  }
  if (events_slot_ != 0) {
    if (const EventList *l = events(c[events_slot_])) {
      st.ids = l->ids;
      st.overflow = l->overflow;
    }
  }
  return st;
}

void CellLayout::importState(const CellState &st, Slot *c) const {
  c[0].i = static_cast<std::int64_t>(st.events);
  for (std::size_t k = 0; k < offset_.size(); ++k) {
    const AccumulatorSpec &a = spec_->accumulators[k];
    Slot *s = c + offset_[k];
    const AccState &x = st.accs.at(k);
    // A value into a value slot (strings allocated, bool as 0/1).
    auto put = [&](Slot &v) {
      if (a.kind == FieldKind::String) {
        setStr(v, new std::string(x.value.s));
      } else if (a.kind == FieldKind::Float) {
        v.f = x.value.f;
      } else {
        v.i = x.value.i;
      }
    };
    switch (a.fn) {
    case AggFn::Count:
      break;
    case AggFn::CountField:
      s[0].i = x.n;
      break;
    case AggFn::Sum:
    case AggFn::Avg:
      if (isFloat(a.kind)) {
        s[0].f = x.fsum;
      } else {
        s[0].i = x.isum;
      }
      if (a.fn == AggFn::Avg) {
        s[1].i = x.n;
      }
      break;
    case AggFn::Min:
    case AggFn::Max:
      if (x.has) {
        put(s[0]);
        s[1].i = 1;
      }
      break;
    case AggFn::First:
    case AggFn::Last:
      if (x.has) {
        s[0].i = x.time;
        s[1].i = static_cast<std::int64_t>(x.seq);
        s[3].i = kHas | (x.value.null ? kNull : 0);
        if (!x.value.null) {
          put(s[2]);
        }
      }
      break;
    case AggFn::CountDistinct:
      if (!x.distinct.empty()) {
        auto *d = new DistinctSet;
        setPtr(s[0], d);
        d->counts.insert(x.distinct.begin(), x.distinct.end());
      }
      break;
    }
  }
  if (events_slot_ != 0) {
    auto *l = new EventList;
    setPtr(c[events_slot_], l);
    l->ids = st.ids;
    l->overflow = st.overflow;
  }
}

void writeValue(SnapshotWriter &w, const AggValue &v) {
  w.u8(v.null ? 1 : 0);
  if (v.null) {
    return;
  }
  switch (v.kind) {
  case FieldKind::Bool:
    w.u8(v.i ? 1 : 0);
    break;
  case FieldKind::Float:
    w.f64(v.f);
    break;
  case FieldKind::String:
    w.str(v.s);
    break;
  default:
    w.i64(v.i);
  }
}

AggValue readValue(SnapshotReader &r, FieldKind kind) {
  if (r.flag("value null")) {
    return AggValue::nullOf(kind);
  }
  switch (kind) {
  case FieldKind::Bool:
    return AggValue::ofInt(kind, r.flag("bool value") ? 1 : 0);
  case FieldKind::Float:
    return AggValue::ofFloat(r.f64());
  case FieldKind::String:
    return AggValue::ofString(r.str());
  default:
    return AggValue::ofInt(kind, r.i64());
  }
}

AggValue valueOf(const AggInput &in, std::int32_t field, FieldKind kind) {
  if (field < 0 || in.isNull(field)) {
    return AggValue::nullOf(kind);
  }
  const Slot &v = in.fields[field];
  switch (kind) {
  case FieldKind::Bool:
    return AggValue::ofInt(kind, v.b ? 1 : 0);
  case FieldKind::Float:
    return AggValue::ofFloat(v.f);
  case FieldKind::String:
    return AggValue::ofString(v.s->view());
  default:
    return AggValue::ofInt(kind, v.i);
  }
}

int compareValues(const AggValue &a, const AggValue &b) {
  switch (a.kind) {
  case FieldKind::Float:
    return a.f < b.f ? -1 : (b.f < a.f ? 1 : 0);
  case FieldKind::String:
    return a.s.compare(b.s);
  default:
    return a.i < b.i ? -1 : (b.i < a.i ? 1 : 0);
  }
}

} // namespace cep::runtime::aggregate
