#include "compiler/interp/aggregate_operator.hpp"

#include "compiler/interp/eval.hpp"
#include "compiler/interp/record.hpp"
#include "compiler/schema_from_program.hpp"
#include "runtime/aggregate/record_writer.hpp"
#include "runtime/aggregate/reference.hpp"
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/io/json_writer.hpp"
#include "runtime/state/migration.hpp"
#include "support/internal_error.hpp"

#include <cstring>
#include <functional>
#include <map>
#include <stdexcept>

namespace cep::compiler::interp {

namespace rt = runtime::aggregate;
using lang::TypeKind;

namespace {

TypeKind typeKindOf(runtime::FieldKind k) {
  switch (k) {
  case runtime::FieldKind::Bool:
    return TypeKind::Bool;
  case runtime::FieldKind::Int:
    return TypeKind::Int;
  case runtime::FieldKind::Float:
    return TypeKind::Float;
  case runtime::FieldKind::String:
    return TypeKind::String;
  case runtime::FieldKind::Time:
    return TypeKind::Time;
  case runtime::FieldKind::Duration:
    return TypeKind::Duration;
  }
  return TypeKind::Int;
}

// An accumulator's value as the evaluator's (strings view `v.s`).
Value valueOf(const rt::AggValue &v) {
  TypeKind k = typeKindOf(v.kind);
  if (v.null) {
    return Value::nullOf(k);
  }
  switch (k) {
  case TypeKind::Bool:
    return Value::ofBool(v.i != 0);
  case TypeKind::Float:
    return Value::ofFloat(v.f);
  case TypeKind::String:
    return Value::ofString(v.s);
  default:
    return Value::ofInt(k, v.i);
  }
}

class AggregateOperator final : public runtime::Matcher {
public:
  AggregateOperator(const lang::typed::Program &program, aggregate::AggregatePlan plan,
                    const runtime::MatcherOptions &options)
      : program_(program), plan_(std::move(plan)), with_events_(options.with_events),
        version_(options.version), evaluator_(program),
        aggregator_(specOf(plan_, options.with_events)), types_{plan_.event_type},
        row_(static_cast<std::size_t>(plan_.rowSize())) {}

  void advanceTime(std::int64_t time, std::vector<runtime::MatchOutput> &out) override {
    // Before the events of time `time`: the watermark is time - 1 (an event at `time` is not
    // late yet).
    advance(time == INT64_MIN ? time : time - 1, out);
  }
  void advanceWatermark(std::int64_t watermark, std::vector<runtime::MatchOutput> &out) override {
    advance(watermark, out);
  }

  void onEvent(const runtime::EventRef &event, std::vector<runtime::MatchOutput> &out) override {
    offer(event, out);
  }
  bool onLateEvent(const runtime::EventRef &event,
                   std::vector<runtime::MatchOutput> &out) override {
    return offer(event, out, /*late=*/true);
  }

  void finish(std::vector<runtime::MatchOutput> &out) override {
    results_.clear();
    aggregator_.finish(results_);
    writeResults(nullptr, out);
  }

  runtime::MatcherStats stats() const override { return stats_; }
  std::int64_t nextTimer() const override { return runtime::kEndOfTime; }

  // The native operator's format (runtime/aggregate/snapshot_format.hpp): either engine
  // restores the other's.
  void snapshot(std::string &out) const override {
    std::string window;
    aggregator_.snapshot(window);
    rt::writeOperatorSnapshot(out, window, schema(), events_);
  }
  void restore(std::string_view in) override {
    aggregator_.restore(rt::readOperatorSnapshot(in, schema(), events_));
  }
  void exportState(runtime::MatcherState &) const override { refuse("state export"); }
  runtime::MigrationReport checkMigration(const runtime::MatcherState &) const override {
    runtime::MigrationReport r;
    r.reasons.push_back("aggregate `" + plan_.name + "`: moving window state is not supported");
    return r;
  }
  runtime::MigrationReport migrateFrom(const runtime::MatcherState &from) override {
    return checkMigration(from);
  }
  const std::vector<std::uint32_t> &eventTypes() const override { return types_; }
  std::string_view patternName() const override { return plan_.name; }
  std::uint64_t routeHash(const runtime::Event &event) const override {
    return std::hash<std::string>{}(keyOf(event));
  }
  void drain() override { refuse("draining"); }
  bool draining() const override { return false; }
  bool drained() const override { return false; }
  std::uint64_t dropState() override {
    refuse("dropping state");
    return 0;
  }

private:
  static rt::AggregateSpec specOf(const aggregate::AggregatePlan &plan, bool with_events) {
    rt::AggregateSpec spec = plan.spec;
    spec.keep_events = with_events;
    return spec;
  }

  const runtime::Schema &schema() const {
    if (!schema_) {
      schema_ = std::make_shared<const runtime::Schema>(schemaFromProgram(program_));
    }
    return *schema_;
  }

  [[noreturn]] void refuse(const char *what) const {
    throw std::runtime_error("aggregate `" + plan_.name + "`: " + what +
                             " of window state are not supported");
  }

  void advance(std::int64_t watermark, std::vector<runtime::MatchOutput> &out) {
    if (watermark <= aggregator_.watermark()) {
      return;
    }
    results_.clear();
    aggregator_.advance(watermark, results_);
    writeResults(nullptr, out);
  }

  // An event of the step's type, released or late: its condition, key and row, then the
  // aggregator. True when it counted for some window.
  bool offer(const runtime::EventRef &event, std::vector<runtime::MatchOutput> &out,
             bool late = false) {
    const runtime::Event &e = *event;
    ++stats_.events;
    if (plan_.condition != nullptr && !evaluator_.test(*plan_.condition, &e, nullptr)) {
      return false;
    }
    std::string key = keyOf(e);
    rt::AggInput in = rowOf(e);
    results_.clear();
    rt::EventFate fate = aggregator_.onEvent(key, in, results_);
    if (fate == rt::EventFate::Late) {
      stats_.late_missed += late ? 1 : 0;
      return false;
    }
    stats_.late_counted += late ? 1 : 0;
    if (with_events_) {
      events_.emplace(e.seq, event);
    }
    writeResults(&e, out);
    return true;
  }

  std::string keyOf(const runtime::Event &e) const {
    std::string key;
    if (plan_.key_fields.empty()) {
      key = "null";
      return key;
    }
    runtime::JsonWriter w(key);
    bool composite = plan_.key_fields.size() > 1;
    if (composite) {
      w.beginArray();
    }
    for (std::int32_t f : plan_.key_fields) {
      writeValue(w, readField(program_, e, f));
    }
    if (composite) {
      w.endArray();
    }
    return key;
  }

  // The event's own slots, then the computed ones (strings copied into strings_).
  rt::AggInput rowOf(const runtime::Event &e) {
    if (plan_.computed.empty()) {
      return rt::inputOf(e);
    }
    std::memcpy(row_.data(), e.slots(), sizeof(runtime::Slot) * plan_.field_count);
    std::uint64_t nulls =
        e.nulls & (plan_.field_count >= 64 ? ~std::uint64_t{0}
                                           : ((std::uint64_t{1} << plan_.field_count) - 1));
    strings_.clear();
    for (std::size_t i = 0; i < plan_.computed.size(); ++i) {
      std::size_t slot = static_cast<std::size_t>(plan_.field_count) + i;
      Value v = evaluator_.evaluateElement(*plan_.computed[i].expr, 0, e);
      runtime::Slot &s = row_[slot];
      s.i = 0;
      if (v.null) {
        nulls |= std::uint64_t{1} << slot;
        continue;
      }
      switch (v.kind) {
      case TypeKind::Bool:
        s.b = v.b;
        break;
      case TypeKind::Float:
        s.f = v.f;
        break;
      case TypeKind::String: {
        auto block = std::make_unique<char[]>(sizeof(std::uint32_t) + v.s.size() + 1);
        auto *ref = reinterpret_cast<runtime::StringRef *>(block.get());
        ref->size = static_cast<std::uint32_t>(v.s.size());
        std::memcpy(ref->data, v.s.data(), v.s.size());
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
  void writeResults(const runtime::Event *at, std::vector<runtime::MatchOutput> &out) {
    for (const rt::WindowResult &r : results_) {
      calls_.clear();
      for (const rt::AggValue &v : r.values) {
        calls_.push_back(valueOf(v));
      }
      if (plan_.having != nullptr) {
        Value h = evaluator_.evaluateCalls(*plan_.having, calls_);
        if (h.null || !h.b) {
          continue;
        }
      }
      runtime::MatchOutput o = rt::windowOutput(r, at);
      record(r, o.json);
      out.push_back(std::move(o));
      ++stats_.matches;
    }
  }

  // Spec §8.2: @stream @pattern [@version] @key @start @end [@revision] fields [@events].
  void record(const rt::WindowResult &r, std::string &json) {
    if (!parts_) {
      std::vector<std::string_view> names;
      for (const auto &field : plan_.emit->fields) {
        names.push_back(field.name);
      }
      parts_ = std::make_unique<rt::RecordParts>(
          rt::recordParts({program_.streams.at(static_cast<std::size_t>(plan_.emit->stream)).name,
                           plan_.name, version_},
                          names));
    }
    rt::beginAggregateRecord(json, *parts_, r);
    for (std::size_t i = 0; i < plan_.emit->fields.size(); ++i) {
      json.append(parts_->fields[i]);
      runtime::JsonWriter w(json); // one bare value
      writeValue(w, evaluator_.evaluateCalls(*plan_.emit->fields[i].value, calls_));
    }
    rt::endAggregateRecord(json, r, with_events_ ? &events_ : nullptr, plan_.decl->step.name);
  }

  const lang::typed::Program &program_;
  aggregate::AggregatePlan plan_;
  bool with_events_;
  std::string version_;
  Evaluator evaluator_;
  rt::ReferenceAggregator aggregator_;
  std::vector<std::uint32_t> types_;
  std::vector<runtime::Slot> row_;
  std::vector<std::unique_ptr<char[]>> strings_; // the computed strings of the current row
  std::vector<rt::WindowResult> results_;
  std::vector<Value> calls_;
  std::unique_ptr<rt::RecordParts> parts_; // the records' constant bytes, on first use
  // --with-events: the counted events by arrival (the reference aggregator keeps every event
  // too; the oracle is not built for long runs).
  std::map<std::uint64_t, runtime::EventRef> events_;
  runtime::MatcherStats stats_;
  mutable std::shared_ptr<const runtime::Schema> schema_; // the program's; built on first use
};

} // namespace

std::unique_ptr<runtime::Matcher> makeAggregateOperator(const lang::typed::Program &program,
                                                        aggregate::AggregatePlan plan,
                                                        const runtime::MatcherOptions &options) {
  return std::make_unique<AggregateOperator>(program, std::move(plan), options);
}

} // namespace cep::compiler::interp
