// The native aggregate operator (native_aggregate.hpp): generated code over WindowAggregator,
// records byte for byte those of compiler/interp/aggregate_operator.cpp.
#include "runtime/native/native_aggregate.hpp"

#include "runtime/aggregate/aggregator.hpp"
#include "runtime/aggregate/record_writer.hpp"
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/engine/output_sink.hpp"
#include "runtime/engine/sharded_matcher.hpp"
#include "runtime/engine/worker_pool.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/native/bound_view.hpp"
#include "runtime/native/native_record.hpp"
#include "runtime/snapshot_codec.hpp"
#include "runtime/state/migration.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <stdexcept>
#include <unordered_map>

namespace cep::runtime::native {

namespace {

namespace rt = runtime::aggregate;

// An accumulator's value as generated code reads it (aggregate_image.hpp `values`).
CepValue cepValueOf(const rt::AggValue &v) {
  CepValue c{};
  c.null = v.null ? 1 : 0;
  if (v.null) {
    return c;
  }
  switch (v.kind) {
  case FieldKind::Bool:
    c.b = v.i != 0 ? 1 : 0;
    c.i = v.i;
    break;
  case FieldKind::Float:
    c.f = v.f;
    break;
  case FieldKind::String:
    c.s = v.s.data();
    c.n = v.s.size();
    break;
  default:
    c.i = v.i;
    break;
  }
  return c;
}

// The window runtime's RawValue is CepValue's layout (aggregate/result.hpp).
static_assert(sizeof(rt::RawValue) == sizeof(CepValue) &&
              offsetof(rt::RawValue, null) == offsetof(CepValue, null) &&
              offsetof(rt::RawValue, b) == offsetof(CepValue, b) &&
              offsetof(rt::RawValue, i) == offsetof(CepValue, i) &&
              offsetof(rt::RawValue, f) == offsetof(CepValue, f) &&
              offsetof(rt::RawValue, s) == offsetof(CepValue, s) &&
              offsetof(rt::RawValue, n) == offsetof(CepValue, n));
const CepValue *asCepValues(const rt::RawValue *v) {
  return reinterpret_cast<const CepValue *>(v);
}

constexpr std::pair<std::int64_t, std::int64_t> kOwnAll = {INT64_MIN, INT64_MAX};

class NativeAggregate final : public Matcher {
public:
  NativeAggregate(std::shared_ptr<const Schema> schema, std::shared_ptr<const AggregateImage> image,
                  AggregateCode code, const MatcherOptions &options)
      : schema_(std::move(schema)), image_(std::move(image)), code_(std::move(code)),
        with_events_(options.with_events), version_(options.version),
        aggregator_(std::make_unique<rt::WindowAggregator>(specOf(*image_, options.with_events))),
        types_{image_->event_type}, row_(static_cast<std::size_t>(image_->rowSize())),
        view_(pool_, 1) {
    CEP_ASSERT(image_->event_type < schema_->types.size(),
               "aggregate " + image_->name + " of an unknown event type");
    CEP_ASSERT(code_.computed.size() == image_->computed.size() &&
                   code_.emit.size() == image_->emit.fields.size(),
               "aggregate " + image_->name + ": code and image disagree");
    type_ = &schema_->types[image_->event_type];
    values_.resize(image_->spec.accumulators.size());
    installHaving();
    std::vector<std::string_view> names;
    for (const OutputField &field : image_->emit.fields) {
      names.push_back(field.name);
    }
    parts_ = rt::recordParts({image_->emit.stream, image_->name, version_}, names);
    fast_bound_ = inPlaceBound(*image_, parts_, with_events_);
    if (image_->key_fields.size() == 1) {
      std::int32_t f = image_->key_fields[0];
      CEP_ASSERT(f >= 0 && static_cast<std::size_t>(f) < type_->fields.size(),
                 "aggregate " + image_->name + ": key field out of range");
      FieldKind kind = type_->fields[static_cast<std::size_t>(f)].kind;
      if (kind == FieldKind::Int || kind == FieldKind::Duration) {
        int_key_ = f;
      }
    }
  }

  void advanceTime(std::int64_t time, std::vector<MatchOutput> &out) override {
    advance(time == INT64_MIN ? time : time - 1, out);
  }
  void advanceWatermark(std::int64_t watermark, std::vector<MatchOutput> &out) override {
    advance(watermark, out);
  }
  void onEvent(const EventRef &event, std::vector<MatchOutput> &out) override {
    settle();
    offer(event, out);
    refreshDue();
  }
  bool onLateEvent(const EventRef &event, std::vector<MatchOutput> &out) override {
    settle();
    bool taken = offer(event, out, /*late=*/true);
    refreshDue();
    return taken;
  }
  void finish(std::vector<MatchOutput> &out) override {
    settle();
    aggregator_->recycle(results_);
    aggregator_->finish(results_);
    writeResults(nullptr, out);
    refreshDue();
  }

  // No settle(): a watermark that fires nothing changes no statistic (and stats may be read
  // while the operator is idle, without touching its state).
  MatcherStats stats() const override {
    MatcherStats s = stats_;
    rt::AggregateStats a = aggregator_->stats();
    s.live_keys = a.keys;
    s.state_bytes = a.state_bytes;
    s.windows = a.windows;
    return s;
  }
  std::int64_t nextTimer() const override { return kEndOfTime; }

  void snapshot(std::string &out) const override {
    settle();
    std::string window;
    aggregator_->snapshot(window);
    rt::writeOperatorSnapshot(out, window, *schema_, events_);
  }
  void restore(std::string_view in) override {
    clearDeferred();
    aggregator_->restore(rt::readOperatorSnapshot(in, *schema_, events_));
    latest_ = std::max(latest_, aggregator_->latestHeld());
    refreshDue();
  }
  void exportState(MatcherState &) const override { refuse("state export"); }

  // Key records of the window runtime (native_aggregate.hpp "Key records").
  void exportChanges(MatcherChanges &out) override {
    settle();
    exportWhole(out);
    auto now = std::make_unique<std::unordered_map<std::string, Fingerprint>>();
    now->reserve(out.put.size());
    std::vector<std::pair<std::string, std::string>> put;
    for (auto &[key, record] : out.put) {
      Fingerprint print = fingerprintOf(record);
      if (exported_ != nullptr) {
        auto was = exported_->find(key);
        bool same = was != exported_->end() && was->second == print;
        if (was != exported_->end()) {
          exported_->erase(was);
        }
        if (same) {
          now->emplace(key, print);
          continue;
        }
      }
      now->emplace(key, print);
      put.emplace_back(std::move(key), std::move(record));
    }
    out.put = std::move(put);
    out.full = exported_ == nullptr;
    if (exported_ != nullptr) {
      for (const auto &[key, print] : *exported_) { // what is left is gone
        out.erased.push_back(key);
      }
      std::sort(out.erased.begin(), out.erased.end());
    }
    exported_ = std::move(now);
  }

  void exportWhole(MatcherChanges &out) const {
    settle();
    if (with_events_) {
      refuse("key records (--with-events keeps the counted events)");
    }
    out.clear();
    out.full = true;
    aggregator_->snapshotParts(out.header, out.put);
  }

  void restoreRecords(std::string_view header, const std::vector<std::string_view> &records) {
    if (with_events_) {
      refuse("key records (--with-events keeps the counted events)");
    }
    clearDeferred();
    aggregator_->restoreParts(header, records);
    latest_ = std::max(latest_, aggregator_->latestHeld());
    refreshDue();
  }
  MigrationReport checkMigration(const MatcherState &) const override {
    MigrationReport r;
    r.reasons.push_back("aggregate `" + image_->name + "`: moving window state is not supported");
    return r;
  }
  MigrationReport migrateFrom(const MatcherState &from) override { return checkMigration(from); }
  const std::vector<std::uint32_t> &eventTypes() const override { return types_; }
  std::string_view patternName() const override { return image_->name; }
  std::uint64_t routeHash(const Event &event) const override {
    std::string key;
    keyOf(event, key);
    return std::hash<std::string>{}(key);
  }
  // `drain` (native_aggregate.hpp "Drain"): from here on this operator writes only the windows
  // that started before the switch time, the time after its watermark and its latest event.
  void drain() override { drainAt(switchTime()); }
  std::int64_t drainTime() const override { return switchTime(); }
  void drainAt(std::int64_t switch_time) override {
    settle();
    if (!drainRefusal(*image_).empty()) {
      refuse("draining");
    }
    own_before_ = switch_time;
  }
  bool draining() const override { return own_before_ != kOwnAll.second; }
  bool drained() const override {
    settle();
    if (!draining()) {
      return false;
    }
    return own_before_ <= own_from_ || aggregator_->drainedBefore(own_before_);
  }
  // After its watermark and its latest event (the driver hands events at time t after
  // advancing to t - 1: a version that comes now sees no event before S), and not before the
  // windows it owns (a version that took over in an earlier drain owns none before its own
  // switch time).
  std::int64_t switchTime() const {
    settle();
    std::int64_t w = aggregator_->watermark();
    std::int64_t after = w == INT64_MIN ? INT64_MIN + 1 : w + 1;
    if (latest_ != INT64_MIN) {
      after = std::max(after, latest_ + 1);
    }
    return std::max(after, own_from_);
  }
  // The new version of a drain at `before` (native_aggregate.hpp "Drain"): `from`'s
  // watermark, and the bounds of its sessions and running cells that started before `before`.
  void seedFrom(const NativeAggregate &from, std::int64_t before) {
    from.settle(); // both at their recorded times (lazy time advance)
    settle();
    aggregator_->seedFrom(*from.aggregator_, before);
    latest_ = std::max(latest_, from.latest_);
    refreshDue();
  }
  void ownWindows(std::int64_t from, std::int64_t before) {
    own_from_ = from;
    own_before_ = before;
  }
  std::pair<std::int64_t, std::int64_t> owned() const { return {own_from_, own_before_}; }
  // Every open window goes unwritten (`cep serve`: a `fresh` deploy, a `drop` undeploy); the
  // operator goes on from the same watermark with no key. Returns the windows dropped.
  std::uint64_t dropState() override {
    settle();
    std::uint64_t windows = aggregator_->stats().windows;
    std::int64_t watermark = aggregator_->watermark();
    aggregator_ = std::make_unique<rt::WindowAggregator>(aggregator_->spec());
    installHaving();
    if (watermark != INT64_MIN) {
      aggregator_->recycle(results_);
      aggregator_->advance(watermark, results_); // no key: writes nothing
    }
    events_.clear();
    stats_.dropped += windows;
    refreshDue();
    return windows;
  }

private:
  static rt::AggregateSpec specOf(const AggregateImage &image, bool with_events) {
    rt::AggregateSpec spec = image.spec;
    spec.keep_events = with_events;
    return spec;
  }

  // A key record's fingerprint, as Matcher::exportChanges's: two independent 64-bit hashes.
  using Fingerprint = std::pair<std::uint64_t, std::uint64_t>;
  static Fingerprint fingerprintOf(std::string_view bytes) {
    std::uint64_t fnv = 0xcbf29ce484222325ULL;
    for (char c : bytes) {
      fnv = (fnv ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    return {std::hash<std::string_view>()(bytes), fnv};
  }

  // `having` runs in the window runtime (WindowAggregator::setFilter): a rolling window tests
  // it before it builds a result.
  // A rolling window's values come as RawValues (CepValue's layout): `having` and the emit
  // code read them as they are.
  void installHaving() {
    if (code_.having != nullptr) {
      aggregator_->setFilter(&NativeAggregate::having, this);
    }
    aggregator_->setRawFilter(code_.having != nullptr ? &NativeAggregate::havingRaw : nullptr,
                              this);
  }
  static bool havingRaw(void *context, const rt::RawValue *values) {
    auto *self = static_cast<NativeAggregate *>(context);
    self->view_.reset(kNoNode);
    return self->code_.having(asCepValues(values), &self->view_) != 0;
  }
  static bool having(void *context, const std::vector<rt::AggValue> &values) {
    auto *self = static_cast<NativeAggregate *>(context);
    for (std::size_t i = 0; i < values.size(); ++i) {
      self->values_[i] = cepValueOf(values[i]);
    }
    self->view_.reset(kNoNode);
    return self->code_.having(self->values_.data(), &self->view_) != 0;
  }

  [[noreturn]] void refuse(const char *what) const {
    throw std::runtime_error("aggregate `" + image_->name + "`: " + what +
                             " of window state are not supported");
  }

  void advance(std::int64_t watermark, std::vector<MatchOutput> &out) {
    clearDeferred(); // `watermark` is at least the one recorded (times never go back)
    if (watermark <= aggregator_->watermark()) {
      return;
    }
    aggregator_->recycle(results_);
    aggregator_->advance(watermark, results_);
    writeResults(nullptr, out);
    refreshDue();
  }

  // Lazy time advance (runtime::Matcher::advanceTo): the driver calls advanceTime /
  // advanceWatermark only from the aggregator's next due watermark on, and records the time
  // otherwise. settle() applies the recorded time before anything reads or changes the window
  // state (every public call but the advances); nothing is due below it, so it only moves the
  // watermark and writes nothing. Const: the watermark is not part of what a const call may
  // change for its caller (it reads as if the advance had been made).
  void settle() const {
    std::int64_t t = deferredTime();
    if (t == INT64_MIN) {
      return;
    }
    std::int64_t w = deferredWatermark() ? t : t - 1; // advanceTime(t): the watermark is t - 1
    clearDeferred();
    if (w > aggregator_->watermark()) {
      std::vector<rt::WindowResult> none;
      aggregator_->advance(w, none);
      CEP_ASSERT(none.empty(), "a recorded time passed a due window");
    }
  }
  // Matcher::setDue: advanceWatermark(W) has work from the aggregator's next due watermark on
  // (advanceTime(t), the watermark t - 1, one later: the due time is early, which is safe).
  void refreshDue() { setDue(aggregator_->nextDue()); }

  bool offer(const EventRef &event, std::vector<MatchOutput> &out, bool late = false) {
    const Event &e = *event;
    if ((++stats_.events & 255) == 0) { // whether hints pay, looked at now and then
      prefetching_ = aggregator_->prefetchWorthwhile();
    }
    view_.reset(kNoNode);
    if (code_.condition != nullptr && code_.condition(&e, &view_) == 0) {
      return false;
    }
    std::string_view key = keyView(e);
    rt::AggInput in = rowOf(e);
    aggregator_->recycle(results_);
    if (aggregator_->onEvent(key, in, results_) == rt::EventFate::Late) {
      stats_.late_missed += late ? 1 : 0;
      return false;
    }
    stats_.late_counted += late ? 1 : 0;
    if (!late) {
      latest_ = std::max(latest_, e.time);
    }
    if (with_events_) {
      events_.emplace(e.seq, event);
    }
    writeResults(&e, out);
    return true;
  }

  // The engine's prefetch hint (Matcher::prefetch), for the usual key of one int field (other
  // keys are left to onEvent) when the aggregator's state is larger than a cache. The
  // condition is not evaluated.
  void prefetch(const Event &e) override {
    if (!prefetching_ || !intKeyOf(e)) {
      return;
    }
    char text[kIntText];
    aggregator_->prefetch(intText(e.slots()[int_key_].i, text));
  }

  // The event's key as keyOf writes it, in int_text_ for one int field (the usual `partition
  // by card`: no string per event), else in key_.
  std::string_view keyView(const Event &e) {
    if (intKeyOf(e)) {
      return intText(e.slots()[int_key_].i, int_text_);
    }
    key_.clear();
    keyOf(e, key_);
    return key_;
  }
  // The key is one int field, not null in e.
  bool intKeyOf(const Event &e) const {
    return int_key_ >= 0 && static_cast<std::uint32_t>(int_key_) < e.field_count &&
           !e.isNull(static_cast<std::uint32_t>(int_key_));
  }
  // The digits of appendJsonInt (std::to_chars, as it writes them) into `buf` (kIntText
  // bytes).
  static constexpr std::size_t kIntText = 24;
  static std::string_view intText(std::int64_t v, char *buf) {
    return {buf, static_cast<std::size_t>(std::to_chars(buf, buf + kIntText, v).ptr - buf)};
  }

  // "@key": appendKeyFields' bytes; one int field (the usual `partition by card`) directly.
  void keyOf(const Event &e, std::string &key) const {
    if (int_key_ >= 0 && static_cast<std::uint32_t>(int_key_) < e.field_count) {
      if (e.isNull(static_cast<std::uint32_t>(int_key_))) {
        key += "null";
      } else {
        appendJsonInt(key, e.slots()[int_key_].i);
      }
      return;
    }
    appendKeyFields(key, *schema_, e, image_->key_fields);
  }

  // The event's own slots, then the computed ones (strings copied into strings_).
  rt::AggInput rowOf(const Event &e) {
    if (image_->computed.empty()) {
      return rt::inputOf(e);
    }
    std::int32_t fields = image_->field_count;
    std::memcpy(row_.data(), e.slots(), sizeof(Slot) * static_cast<std::size_t>(fields));
    std::uint64_t nulls =
        e.nulls & (fields >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << fields) - 1));
    strings_.clear();
    for (std::size_t i = 0; i < image_->computed.size(); ++i) {
      std::size_t slot = static_cast<std::size_t>(fields) + i;
      CepValue v{};
      v.null = 1;
      code_.computed[i](&e, &view_, &v);
      Slot &s = row_[slot];
      s.i = 0;
      if (v.null != 0) {
        nulls |= std::uint64_t{1} << slot;
        continue;
      }
      switch (image_->computed[i]) {
      case FieldKind::Bool:
        s.b = v.b != 0;
        break;
      case FieldKind::Float:
        s.f = v.f;
        break;
      case FieldKind::String: {
        auto block = std::make_unique<char[]>(sizeof(std::uint32_t) + v.n + 1);
        auto *ref = reinterpret_cast<StringRef *>(block.get());
        ref->size = static_cast<std::uint32_t>(v.n);
        if (v.n > 0) {
          std::memcpy(ref->data, v.s, v.n);
        }
        s.s = ref;
        strings_.push_back(std::move(block));
        break;
      }
      default:
        s.i = v.i;
        break;
      }
    }
    return {e.time, e.seq, row_.data(), nulls};
  }

  // The records of results_: `at` is the event that produced them (null: the watermark).
  // Straight into the driver's sink when it offers it (Matcher::setDirectOutput) and they are
  // in output order: no MatchOutput and no string per record.
  void writeResults(const Event *at, std::vector<MatchOutput> &out) {
    if (results_.empty()) {
      return;
    }
    OutputSink *sink = directOutput();
    if (sink != nullptr && !inOutputOrder(at)) {
      sink = nullptr; // the driver sorts them (MatchOutput::before), as without the sink
    }
    for (const rt::WindowResult &r : results_) {
      if (!writes(r)) {
        continue;
      }
      if (r.raw != nullptr) {
        std::memcpy(values_.data(), asCepValues(r.raw), sizeof(CepValue) * values_.size());
      } else {
        for (std::size_t i = 0; i < r.values.size(); ++i) {
          values_[i] = cepValueOf(r.values[i]);
        }
      }
      // `having` was tested by the window runtime (installHaving).
      if (sink != nullptr) {
        record(r, sink->beginLine());
        sink->endLine();
      } else {
        MatchOutput o = rt::windowOutput(r, at);
        o.json.reserve(record_bytes_ + 32); // most records of an operator are about as long
        record(r, o.json);
        record_bytes_ = o.json.size();
        out.push_back(std::move(o));
      }
      ++stats_.matches;
    }
  }
  // Whether this operator writes a record for `r`.
  bool writes(const rt::WindowResult &r) const {
    std::int64_t start = rt::drainStart(aggregator_->spec(), r);
    if (start < own_from_ || start >= own_before_) {
      return false; // a window of the other version of a drain (native_aggregate.hpp "Drain")
    }
    // A drain's seed that took no event (seedDrain): never a record, even where the split is
    // not known (a restore from the Kafka changelog while the aggregate drains).
    return r.event_count != 0;
  }
  // Whether the records of results_ are in the driver's output order (MatchOutput::before), so
  // they can be written as they come. One record (a rolling window's per event) always is.
  bool inOutputOrder(const Event *at) const {
    if (results_.size() == 1) {
      return true;
    }
    const rt::WindowResult *last = nullptr;
    MatchOutput prev;
    for (const rt::WindowResult &r : results_) {
      if (!writes(r)) {
        continue;
      }
      MatchOutput o = rt::windowOutput(r, at);
      if (last != nullptr && MatchOutput::before(o, prev)) {
        return false;
      }
      last = &r;
      prev = std::move(o);
    }
    return true;
  }

  static void appendValue(std::string &json, ValueKind kind, const CepValue &v) {
    if (v.null != 0) {
      json.append("null");
      return;
    }
    switch (kind) {
    case ValueKind::Null:
      json.append("null");
      return;
    case ValueKind::Bool:
      json.append(v.b != 0 ? "true" : "false");
      return;
    case ValueKind::Int:
    case ValueKind::Duration:
      appendJsonInt(json, v.i);
      return;
    case ValueKind::Time:
      appendJsonTime(json, v.i);
      return;
    case ValueKind::Float:
      appendJsonFloat(json, v.f);
      return;
    case ValueKind::String:
      appendJsonString(json, std::string_view(v.s, v.n));
      return;
    }
  }

  // Spec §8.2: @stream @pattern [@version] @key @start @end [@revision] fields [@events].
  void record(const rt::WindowResult &r, std::string &json) {
    if (fast_bound_ != 0 && r.revision == 0 && recordInPlace(r, json)) {
      return;
    }
    rt::beginAggregateRecord(json, parts_, r);
    for (std::size_t i = 0; i < image_->emit.fields.size(); ++i) {
      const OutputField &field = image_->emit.fields[i];
      json.append(parts_.fields[i]);
      CepValue v{};
      v.null = 1;
      if (field.kind != ValueKind::Null) {
        view_.reset(kNoNode);
        code_.emit[i](values_.data(), &view_, &v);
      }
      appendValue(json, field.kind, v);
    }
    rt::endAggregateRecord(json, r, with_events_ ? &events_ : nullptr, image_->step_name);
  }

  // The usual record (a rolling window's, one per event) written in one piece: room for its
  // longest text made once and the bytes put in place, with no append (and capacity check) per
  // member and no generic value writer. The same bytes as the members' path above, so only
  // where that is plain: no "@revision", no "@events", every emit field an int, duration, bool
  // or null (fast_bound_ != 0, set when the operator is made), a key whose JSON has no control
  // character (appendJsonValue would rewrite it; an int key never has one) and both times in
  // years 0000..9999 (writeRecordTime). Else false, with json as it was.
  bool recordInPlace(const rt::WindowResult &r, std::string &json) {
    const std::string &key = r.key;
    if (int_key_ < 0 && std::any_of(key.begin(), key.end(),
                                    [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
      return false;
    }
    std::size_t at = json.size();
    json.resize(at + fast_bound_ + key.size());
    char *p = json.data() + at;
    auto put = [&p](std::string_view bytes) {
      std::memcpy(p, bytes.data(), bytes.size());
      p += bytes.size();
    };
    put(parts_.prefix);
    put(key);
    put(",\"@start\":");
    p = rt::writeRecordTime(p, parts_.start, r.start);
    if (p != nullptr) {
      put(",\"@end\":");
      p = rt::writeRecordTime(p, parts_.end, r.end);
    }
    if (p == nullptr) {
      json.resize(at);
      return false;
    }
    for (std::size_t i = 0; i < image_->emit.fields.size(); ++i) {
      ValueKind kind = image_->emit.fields[i].kind;
      put(parts_.fields[i]);
      CepValue v{};
      v.null = 1;
      if (kind != ValueKind::Null) {
        view_.reset(kNoNode);
        code_.emit[i](values_.data(), &view_, &v);
      }
      if (v.null != 0 || kind == ValueKind::Null) {
        put("null");
      } else if (kind == ValueKind::Bool) {
        put(v.b != 0 ? "true" : "false");
      } else { // Int, Duration: appendJsonInt's digits
        p = std::to_chars(p, p + kMaxIntChars, v.i).ptr;
      }
    }
    *p++ = '}';
    json.resize(static_cast<std::size_t>(p - json.data()));
    return true;
  }
  static constexpr std::size_t kMaxIntChars = 20; // "-9223372036854775808"
  // recordInPlace's room beyond the key (0: the operator's records are never written so).
  static std::size_t inPlaceBound(const AggregateImage &image, const rt::RecordParts &parts,
                                  bool with_events) {
    if (with_events) {
      return 0;
    }
    std::size_t n = parts.prefix.size() + std::strlen(",\"@start\":") + rt::kRecordTimeChars +
                    std::strlen(",\"@end\":") + rt::kRecordTimeChars + 1;
    for (std::size_t i = 0; i < image.emit.fields.size(); ++i) {
      switch (image.emit.fields[i].kind) {
      case ValueKind::Null:
      case ValueKind::Bool:
      case ValueKind::Int:
      case ValueKind::Duration:
        n += parts.fields[i].size() + kMaxIntChars; // "false", "null" are shorter
        break;
      default:
        return 0;
      }
    }
    return n;
  }

  std::shared_ptr<const Schema> schema_;
  std::shared_ptr<const AggregateImage> image_;
  AggregateCode code_;
  const EventSchema *type_ = nullptr;
  bool with_events_;
  std::string version_;
  std::unique_ptr<rt::WindowAggregator> aggregator_; // replaced by dropState
  std::vector<std::uint32_t> types_;
  std::vector<Slot> row_;
  std::vector<std::unique_ptr<char[]>> strings_; // the computed strings of the current row
  std::vector<rt::WindowResult> results_;
  std::vector<CepValue> values_; // the accumulator values of the record being written
  rt::RecordParts parts_;        // the records' constant bytes
  std::size_t record_bytes_ = 0; // the last record's length
  std::size_t fast_bound_ = 0;   // recordInPlace's room beyond the key (0: not used)
  std::int32_t int_key_ = -1;    // the key's field when it is one int or duration field
  std::string key_;
  char int_text_[kIntText];  // keyView's digits of an int key
  bool prefetching_ = false; // prefetch hints are taken (offer updates it every 256 events)
  NodePool pool_;            // empty: generated code sees a context with nothing bound
  BoundView view_;
  // --with-events: the counted events by arrival.
  std::map<std::uint64_t, EventRef> events_;
  MatcherStats stats_;
  // The windows it writes: those starting in [own_from_, own_before_) (a drain's two versions).
  std::int64_t own_from_ = kOwnAll.first;
  std::int64_t own_before_ = kOwnAll.second;
  // The latest time of an event it counted that was not late (switchTime); after a restore, at
  // least the latest its state may hold (WindowAggregator::latestHeld).
  std::int64_t latest_ = INT64_MIN;
  // exportChanges: the fingerprint of each key record it exported last (null before the first).
  std::unique_ptr<std::unordered_map<std::string, Fingerprint>> exported_;
};

} // namespace

namespace {

// `cep serve --workers N` (runtime/engine/sharded_matcher.hpp): an aggregate served as N
// operators of one version, shard w holding the keys whose name hashes to worker w (routeHash
// hashes the key's name, so a key record's name places it). nullptr: one operator.
const ShardedMatcher *shardedOf(const Matcher &m) {
  return dynamic_cast<const ShardedMatcher *>(&m);
}
ShardedMatcher *shardedOf(Matcher &m) {
  return dynamic_cast<ShardedMatcher *>(&m);
}

const NativeAggregate &aggregateOf(const Matcher &m, const char *what) {
  const auto *a = dynamic_cast<const NativeAggregate *>(&m);
  CEP_ASSERT(a != nullptr, std::string(what) + " of a pattern");
  return *a;
}
NativeAggregate &aggregateOf(Matcher &m, const char *what) {
  auto *a = dynamic_cast<NativeAggregate *>(&m);
  CEP_ASSERT(a != nullptr, std::string(what) + " of a pattern");
  return *a;
}

// Two operators of one aggregate version's shape: both sharded over as many workers, or neither.
void checkSameShards(const ShardedMatcher *a, const ShardedMatcher *b, const char *what) {
  CEP_ASSERT((a == nullptr) == (b == nullptr) &&
                 (a == nullptr || a->shardCount() == b->shardCount()),
             std::string(what) + " between operators sharded differently");
}

} // namespace

bool isAggregate(const Matcher &m) {
  if (const ShardedMatcher *s = shardedOf(m)) {
    return isAggregate(*s->shard(0));
  }
  return dynamic_cast<const NativeAggregate *>(&m) != nullptr;
}

void exportAggregateRecords(const Matcher &m, MatcherChanges &out) {
  const ShardedMatcher *s = shardedOf(m);
  if (s == nullptr) {
    aggregateOf(m, "exportAggregateRecords").exportWhole(out);
    return;
  }
  // The shards' keys are disjoint and their headers equal (every shard has seen every advance
  // of time): one worker's records, in key order under one header.
  aggregateOf(*s->shard(0), "exportAggregateRecords").exportWhole(out);
  MatcherChanges part;
  for (std::uint32_t w = 1; w < s->shardCount(); ++w) {
    aggregateOf(*s->shard(w), "exportAggregateRecords").exportWhole(part);
    CEP_ASSERT(part.header == out.header, "the workers of aggregate `" +
                                              std::string(m.patternName()) +
                                              "` differ in their window header");
    out.put.insert(out.put.end(), std::make_move_iterator(part.put.begin()),
                   std::make_move_iterator(part.put.end()));
  }
  std::sort(out.put.begin(), out.put.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
}

void restoreAggregateRecords(Matcher &m, std::string_view header,
                             const std::vector<std::string_view> &records) {
  ShardedMatcher *s = shardedOf(m);
  if (s == nullptr) {
    aggregateOf(m, "restoreAggregateRecords").restoreRecords(header, records);
    return;
  }
  // Each key to the worker its name hashes to, as routeHash places its events; every shard
  // takes the header (the watermark), with or without keys.
  std::vector<std::vector<std::string_view>> mine(s->shardCount());
  for (std::string_view record : records) {
    std::string key = aggregateRecordKey(record);
    mine[workerOf(std::hash<std::string>{}(key), s->shardCount())].push_back(record);
  }
  for (std::uint32_t w = 0; w < s->shardCount(); ++w) {
    aggregateOf(*s->shard(w), "restoreAggregateRecords").restoreRecords(header, mine[w]);
  }
}

void moveAggregateWindows(Matcher &to, const Matcher &from) {
  const ShardedMatcher *a = shardedOf(to);
  const ShardedMatcher *b = shardedOf(from);
  checkSameShards(a, b, "moveAggregateWindows");
  std::string bytes;
  if (a == nullptr) {
    from.snapshot(bytes);
    to.restore(bytes);
    return;
  }
  // Shard by shard: both versions key by the same fields (the caller checked), so a key's name
  // and worker are the same in both.
  for (std::uint32_t w = 0; w < a->shardCount(); ++w) {
    bytes.clear();
    b->shard(w)->snapshot(bytes);
    a->shard(w)->restore(bytes);
  }
}

bool isAggregateHeader(std::string_view header) {
  return header.size() >= 8 && header.substr(0, 8) == "CEPASNAP";
}

std::string drainRefusal(const AggregateImage &image) {
  switch (image.spec.window) {
  case rt::WindowKind::Tumbling:
  case rt::WindowKind::Hopping:
  case rt::WindowKind::Cumulate:
    return {};
  case rt::WindowKind::Session:
  case rt::WindowKind::Rolling:
    return {};
  case rt::WindowKind::None:
    if (image.spec.ttl_ms > 0) {
      return {};
    }
    return "a `none` window without `ttl` never closes: the old version's running windows "
           "would never end its drain (give the aggregate a `ttl`)";
  }
  return "unknown window kind";
}

std::int64_t drainSwitchTime(const Matcher &m) {
  CEP_ASSERT(isAggregate(m), "drainSwitchTime of a pattern");
  return m.drainTime(); // sharded: the latest of the workers' (sharded_matcher.hpp)
}

void seedDrain(Matcher &to, const Matcher &from, std::int64_t before) {
  ShardedMatcher *a = shardedOf(to);
  const ShardedMatcher *b = shardedOf(from);
  checkSameShards(a, b, "seedDrain");
  if (a == nullptr) {
    aggregateOf(to, "seedDrain").seedFrom(aggregateOf(from, "seedDrain"), before);
    return;
  }
  // A key's sessions and running cells are on the same worker in both versions (same key name).
  for (std::uint32_t w = 0; w < a->shardCount(); ++w) {
    aggregateOf(*a->shard(w), "seedDrain").seedFrom(aggregateOf(*b->shard(w), "seedDrain"), before);
  }
}

void ownWindows(Matcher &m, std::int64_t from, std::int64_t before) {
  if (ShardedMatcher *s = shardedOf(m)) {
    for (std::uint32_t w = 0; w < s->shardCount(); ++w) {
      aggregateOf(*s->shard(w), "ownWindows").ownWindows(from, before);
    }
    return;
  }
  aggregateOf(m, "ownWindows").ownWindows(from, before);
}

std::pair<std::int64_t, std::int64_t> ownedWindows(const Matcher &m) {
  if (const ShardedMatcher *s = shardedOf(m)) {
    return aggregateOf(*s->shard(0), "ownedWindows").owned(); // every shard owns the same
  }
  return aggregateOf(m, "ownedWindows").owned();
}

std::string aggregateRecordKey(std::string_view record) {
  SnapshotReader r(record, "aggregate key record");
  return std::string(r.str());
}

std::unique_ptr<Matcher> makeNativeAggregate(std::shared_ptr<const Schema> schema,
                                             std::shared_ptr<const AggregateImage> image,
                                             AggregateCode code, const MatcherOptions &options) {
  return std::make_unique<NativeAggregate>(std::move(schema), std::move(image), std::move(code),
                                           options);
}

std::vector<std::unique_ptr<Matcher>>
placeOperators(std::vector<std::unique_ptr<Matcher>> patterns,
               std::vector<std::pair<std::int32_t, std::unique_ptr<Matcher>>> aggregates) {
  std::size_t total = patterns.size() + aggregates.size();
  std::vector<std::unique_ptr<Matcher>> out(total);
  for (auto &[at, op] : aggregates) {
    CEP_ASSERT(at >= 0 && static_cast<std::size_t>(at) < total &&
                   !out[static_cast<std::size_t>(at)],
               "aggregate operator index out of range or taken");
    out[static_cast<std::size_t>(at)] = std::move(op);
  }
  std::size_t next = 0;
  for (std::unique_ptr<Matcher> &slot : out) {
    if (!slot) {
      slot = std::move(patterns[next++]);
    }
  }
  return out;
}

} // namespace cep::runtime::native
