// A partition taken over behind the member (serve_kafka.hpp; docs/kafka.md "A partition taken
// over behind the member"). When `--scale-out` assigns a partition whose restored watermark
// (its changelog record's) is behind this member's event time, its events up to the member's
// watermark would be late here and its keys' timers due in between would fire before the
// events that come first. So the partition catches up on its own (so does one whose record is
// behind the others' at a start from the changelog without --scale-out: applyChangelog):
//
//   start   its record's keys go into a catch-up set (fresh matchers of the served versions,
//           ServeRuntime::catchUpOperators) in a run loop of its own, with the member's inputs
//           but only the partition counted, its watermark raised to the record's; the
//           partition leaves the member's combined watermark (KafkaSource::setHeldOut)
//   catch   each of its messages goes to that loop (skip_message: the member's loop never sees
//           it): its own watermark (--max-delay) decides lateness and fires its keys' timers;
//           the records go to the same outputs
//   merge   once its watermark reaches the member's, its keys move into the served operators
//           (ServeRuntime::mergeCatchUp, as a changelog restore), its held events into the
//           member's reorder buffer (new arrival seqs, in their order), its watermark and counts
//           into the member's loop; it counts in the combined watermark again
//
// A checkpoint meanwhile writes its record from the catch-up (catchUpRecord); a revocation
// drops it after that checkpoint; HTTP deploys and undeploys are refused while one runs. A
// change of the rules topic the served set applied (ServeRuntime::TimedChange, onTimedChange)
// is applied to the catch-up set when its own watermark reaches the change's time (its loop's
// TimedChanges: CatchUpChanges), so both sides have switched by the merge, which goes by
// operator id (ServeRuntime::mergeCatchUp). Aggregates' open windows catch up the same way.
// The changes the served set applied before the partition came (rule_history_) are replayed
// too: its set is made as of its watermark (the versions before the first change due after
// it, TimedChange::before) and that change and the later ones are scheduled at their times.
// An HTTP deploy or undeploy is in the history too, at the member's watermark + 1 when it was
// applied (TimedChange::http): the point where the member's own keys switched.
#include "cli/serve_kafka.hpp"
#include "cli/serve_kafka_watermarks.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/partition_state.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <iostream>
#include <limits>
#include <tuple>

namespace cep::cli {

namespace {

std::string timeText(std::int64_t t) {
  return t == runtime::kNoWatermark ? std::string("none") : runtime::formatRfc3339(t);
}

double lagSeconds(std::int64_t member, std::int64_t own) {
  if (member == runtime::kNoWatermark) {
    return 0;
  }
  if (own == runtime::kNoWatermark) {
    return -1; // unknown: it has no watermark yet
  }
  return member > own ? static_cast<double>(member - own) / 1000.0 : 0.0;
}

} // namespace

std::int64_t
ServeKafka::catchUpReference(const std::vector<service::ChangelogRecord> &records) const {
  if (loop_ == nullptr || loop_out_ == nullptr || !loop_options_ ||
      loop_options_->time != runtime::TimeMode::Event) {
    return runtime::kNoWatermark;
  }
  std::int64_t reference = loop_->ingest().watermark();
  for (const service::ChangelogRecord &rec : records) {
    const bool windows = std::any_of(rec.patterns.begin(), rec.patterns.end(),
                                     [](const auto &p) { return !p.header.empty(); });
    if (windows && rec.watermark != runtime::kNoWatermark) {
      reference = std::max(reference, rec.watermark);
    }
  }
  return reference;
}

bool ServeKafka::behind(std::int64_t watermark, std::int64_t reference) {
  return reference != runtime::kNoWatermark &&
         (watermark == runtime::kNoWatermark || watermark < reference);
}

bool ServeKafka::startCatchUp(std::int32_t p, std::int64_t watermark,
                              const std::vector<service::ChangelogPattern> *patterns,
                              std::int64_t reference) {
  const runtime::kafka::KafkaSource &source = *sources_.front();
  const std::string name = source.splitName(static_cast<std::uint32_t>(p));
  const std::int64_t member = reference;
  // As of its watermark: the rule changes the served set applied after it (the first one due
  // after it and every one applied since) are applied to the catch-up at their times, from the
  // versions served before the first of them. A change at W + 1 is applied already (the
  // driver applies a change at T once the watermark reaches T - 1).
  boundRuleHistory();
  std::size_t first = rule_history_.size();
  for (std::size_t i = 0; i < rule_history_.size(); ++i) {
    if (watermark == runtime::kNoWatermark ||
        (watermark < std::numeric_limits<std::int64_t>::max() &&
         rule_history_[i]->at > watermark + 1)) {
      first = i;
      break;
    }
  }
  std::string as_of, replayed; // for the log line
  if (std::string gap = ruleHistoryGap(watermark); !gap.empty()) {
    as_of = " (served now: " + gap + ")"; // a change due after it was dropped
    first = rule_history_.size();
  } else if (first < rule_history_.size()) {
    as_of = " (as of its watermark)";
  } else {
    as_of = " (served now)";
  }
  const std::vector<service::ServeRuntime::SetVersion> *set =
      first < rule_history_.size() ? &rule_history_[first]->before : nullptr;
  auto c = std::make_unique<CatchUp>();
  std::uint64_t next_seq = loop_->ingest().nextSeq();
  std::string why_not;
  std::vector<std::string> drain_lines; // a drain's old version served again (or not) in it
  c->ops = served_->catchUpOperators(set, patterns, next_seq, why_not, *loop_, changelogArtifact(),
                                     drain_lines); // throws: the caller fails
  if (!why_not.empty()) {
    kafkaLog(name + ": behind this member (its watermark " + timeText(watermark) +
             ", the member's " + timeText(member) + ") but no catch-up is made: " + why_not +
             "; its events at or before the member's watermark are late (late output)");
    return false;
  }
  loop_->ingest().raiseNextSeq(next_seq);
  const std::vector<std::string> &names = loop_->ingest().inputNames();
  auto at = std::find(names.begin(), names.end(), name);
  if (at == names.end()) {
    throw std::runtime_error("partition " + name + " is not an input of the loop (internal)");
  }
  c->partition = p;
  c->input = static_cast<std::uint32_t>(at - names.begin());
  const std::int32_t bound = inputs_.front().type_name.empty()
                                 ? -1
                                 : served_->schema().typeIndex(inputs_.front().type_name);
  // On the loop thread alone: with --workers N its operators are sharded as the served ones
  // (their keys split the same way when they merge), driven here one shard after the other,
  // each message's records written in order with the member's (its workers synced first).
  runtime::RunOptions options = *loop_options_;
  options.serve_workers = 1;
  c->loop = std::make_unique<runtime::RunLoop>(
      served_->schema(), std::vector<runtime::Matcher *>{}, names,
      std::vector<std::int32_t>(names.size(), bound), *loop_out_, options);
  for (const service::ServeRuntime::CatchUpOperator &op : c->ops) {
    c->loop->operators().add(op.id, op.matcher.get());
  }
  c->changes.kafka = this;
  c->changes.partition = p;
  // The rules topic's changes, and the HTTP ones at the event time the member applied them.
  const bool http =
      std::any_of(rule_history_.begin() + static_cast<std::ptrdiff_t>(first), rule_history_.end(),
                  [](const auto &change) { return change->http; });
  for (std::size_t i = first; i < rule_history_.size(); ++i) {
    const auto &change = rule_history_[i];
    auto before = [](const std::shared_ptr<const service::ServeRuntime::TimedChange> &a,
                     const std::shared_ptr<const service::ServeRuntime::TimedChange> &b) {
      return a->at < b->at;
    };
    auto &pending = c->changes.pending;
    pending.insert(std::upper_bound(pending.begin(), pending.end(), change, before), change);
    replayed += (i != first ? ", the "
                 : http     ? "; the rule changes the member applied after it (the rules "
                              "topic's at their times, HTTP ones at the event time the member "
                              "applied them) are applied here at their times: the "
                            : "; the rules topic's changes the member applied after it are "
                              "applied here at their times: the ") +
                change->what + " at " + timeText(change->at);
  }
  c->loop->driver().setTimedChanges(&c->changes); // the rules topic's, at its own event time
  for (std::uint32_t i = 0; i < names.size(); ++i) {
    if (i != c->input) {
      c->loop->setInputCounted(i, false); // its watermark is the partition's alone
    }
  }
  if (watermark != runtime::kNoWatermark) {
    c->loop->ingest().raiseWatermark(c->input, watermark);
  }
  c->loop->ingest().raiseNextSeq(next_seq); // its events sort after the keys restored
  c->loop->ingest().setOrigin(c->input, runtime::PartitionOrigin{source.topic(), p});
  c->from = watermark;
  c->member = member;
  if (repartition() && repartition_source_ != nullptr) {
    // Its watermark records speak for input partitions: combined as the member's source does,
    // starting with none heard (the records before where it resumes are not read again).
    c->heard.reset(repartition_source_->splits());
  }
  c->started = std::chrono::steady_clock::now();
  if (registry_ != nullptr) {
    runtime::metrics::Labels labels = {{"topic", source.topic()}, {"partition", std::to_string(p)}};
    c->catching_up =
        &registry_->gauge("cep_kafka_partition_catching_up",
                          "1 while a partition restored behind this member's event time catches up "
                          "on its own (its own watermark and matchers), 0 once merged.",
                          labels);
    c->lag = &registry_->gauge("cep_kafka_partition_catch_up_lag_seconds",
                               "Event time a partition catching up is behind this "
                               "member's watermark (-1: it has no watermark yet).",
                               labels);
    c->catching_up->set(1);
    c->lag->set(lagSeconds(member, watermark));
  }
  sources_.front()->setHeldOut(static_cast<std::uint32_t>(p), true);
  std::size_t keys = 0;
  if (patterns != nullptr) {
    for (const service::ChangelogPattern &pattern : *patterns) {
      keys += pattern.records.size();
    }
  }
  std::string versions;
  for (const service::ServeRuntime::CatchUpOperator &op : c->ops) {
    versions += (versions.empty() ? "" : ", ") + op.pattern + " " + op.version +
                (op.draining ? " (draining)" : "");
  }
  kafkaLog(name + ": catching up: its watermark " + timeText(watermark) +
           " is behind this member's " + timeText(member) + ": its " + std::to_string(keys) +
           " keys are matched on their own, with its own watermark, until it reaches the "
           "member's; its versions" +
           as_of + ": " + versions + replayed);
  for (const std::string &line : drain_lines) {
    kafkaLog(name + ": catching up: " + line);
  }
  catch_up_[p] = std::move(c);
  return true;
}

bool ServeKafka::feedCatchUp(std::int32_t partition, const runtime::Line &line) {
  auto it = catch_up_.find(partition);
  if (it == catch_up_.end()) {
    return false;
  }
  CatchUp &c = *it->second;
  ++c.messages;
  std::int32_t from = 0;
  bool idle_changed = false;
  runtime::Line combined;
  const runtime::Line *record = &line;
  if (!c.heard.empty() && line.oversized == 0) {
    // Watermark and idleness records of the first stage (serve_kafka_watermarks.hpp).
    const InputWatermarks::Take take = c.heard.take(line.text, from, idle_changed);
    if (take == InputWatermarks::Take::Outside || take == InputWatermarks::Take::Taken) {
      return true; // no rise (records of a partition the topic lacks: the source logs them)
    }
    if (take == InputWatermarks::Take::Rose) {
      c.buffer = "{\"@watermark\":" + std::to_string(c.heard.handed) + "}";
      const std::size_t size = c.buffer.size();
      c.buffer.append(runtime::kLinePadding, '\0');
      combined = line;
      combined.text = std::string_view(c.buffer.data(), size);
      combined.capacity = c.buffer.size();
      record = &combined;
    }
  }
  if (!c.loop->onRecord(c.input, *record)) {
    fail("the catch-up of " + sources_.front()->splitName(static_cast<std::uint32_t>(partition)) +
         ": " + c.loop->message());
    return true;
  }
  const std::int64_t own = c.loop->ingest().watermark();
  const std::int64_t member = std::max(loop_->ingest().watermark(), c.member);
  if (c.lag != nullptr) {
    c.lag->set(lagSeconds(member, own));
  }
  if (own != runtime::kNoWatermark && own >= member) {
    mergeCatchUp(partition);
  }
  return true;
}

void ServeKafka::mergeCatchUp(std::int32_t partition) {
  auto it = catch_up_.find(partition);
  CatchUp &c = *it->second;
  const std::string name = sources_.front()->splitName(static_cast<std::uint32_t>(partition));
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t own = c.loop->ingest().watermark();
  // Every rule change the served set applied is applied here by now (its watermark is at or
  // past the member's, which was at or past each one's time - 1); one still pending (the
  // catch-up's driver did not step there) is applied before its keys move.
  while (!c.changes.pending.empty()) {
    std::shared_ptr<const service::ServeRuntime::TimedChange> change = c.changes.pending.front();
    c.changes.pending.erase(c.changes.pending.begin());
    applyCatchUpChange(partition, *change, /*late=*/false);
  }
  std::size_t keys = 0;
  for (const service::ServeRuntime::CatchUpOperator &op : c.ops) {
    keys += op.matcher->stats().live_keys;
  }
  std::vector<std::string> lines;
  try {
    lines = served_->mergeCatchUp(*loop_, c.ops); // by operator id; counts its records
  } catch (const std::exception &e) {
    fail("cannot merge the catch-up of " + name + ": " + e.what());
    return;
  }
  // Its held events (later than its watermark, so not late for the member's): into the
  // member's reorder buffer with the member's next arrival seqs, in their own order.
  std::vector<runtime::EventRef> held = c.loop->driver().bufferedEvents();
  std::sort(held.begin(), held.end(), [](const runtime::EventRef &a, const runtime::EventRef &b) {
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
  });
  c.loop->driver().dropBuffered([](const runtime::Event &) { return true; });
  for (runtime::EventRef &event : held) {
    const std::uint64_t seq = loop_->ingest().nextSeq();
    event->seq = seq;
    loop_->ingest().raiseNextSeq(seq + 1);
    loop_->driver().push(std::move(event));
  }
  const runtime::RecordCounts counts = c.loop->ingest().records().inputs[c.input];
  loop_->ingest().addCounts(c.input, counts);
  loop_->ingest().raiseWatermark(c.input, own);
  sources_.front()->setHeldOut(static_cast<std::uint32_t>(partition), false);
  if (c.catching_up != nullptr) {
    c.catching_up->set(0);
    c.lag->set(0);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - c.started).count();
  const double merge_ms =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() * 1000;
  kafkaLog(name + ": caught up with this member at event time " + timeText(own) + " (from " +
           timeText(c.from) + "; the member was at " + timeText(c.member) +
           " when it started): " + std::to_string(c.messages) + " messages (" +
           std::to_string(counts.accepted) + " events, " + std::to_string(counts.late) +
           " late) in " + std::to_string(static_cast<long long>(seconds * 1000)) + " ms; " +
           std::to_string(keys) + " keys and " + std::to_string(held.size()) +
           " held events merged into the matchers in " +
           std::to_string(static_cast<long long>(merge_ms)) + " ms" +
           (c.rule_changes == 0
                ? std::string()
                : "; " + std::to_string(c.rule_changes) + " rule changes applied to it"));
  for (const std::string &line : lines) {
    kafkaLog("merged from the catch-up: " + line);
  }
  catch_up_.erase(it);
}

void ServeKafka::dropCatchUp(std::int32_t partition) {
  auto it = catch_up_.find(partition);
  if (it == catch_up_.end()) {
    return;
  }
  CatchUp &c = *it->second;
  loop_->ingest().addCounts(c.input, c.loop->ingest().records().inputs[c.input]);
  for (const service::ServeRuntime::CatchUpOperator &op : c.ops) {
    served_->countCatchUp(op);
  }
  if (c.catching_up != nullptr) {
    c.catching_up->set(0);
    c.lag->set(0);
  }
  kafkaLog(sources_.front()->splitName(static_cast<std::uint32_t>(partition)) +
           ": given up while catching up (at its watermark " +
           timeText(c.loop->ingest().watermark()) + ", after " + std::to_string(c.messages) +
           " messages)");
  sources_.front()->setHeldOut(static_cast<std::uint32_t>(partition), false);
  catch_up_.erase(it);
}

bool ServeKafka::catchUpRecord(std::int32_t partition, service::ChangelogRecord &rec) const {
  auto it = catch_up_.find(partition);
  if (it == catch_up_.end()) {
    return false;
  }
  const CatchUp &c = *it->second;
  // Its watermark, below every event it still holds; it resumes at the first of them.
  std::int64_t released = c.loop->ingest().watermark();
  for (const runtime::EventRef &e : c.loop->driver().bufferedEvents()) {
    if (released != runtime::kNoWatermark) {
      released = std::min(released, e->time - 1);
    }
    if (e->line != UINT32_MAX && rec.next_offset >= 0 &&
        static_cast<std::int64_t>(e->line) < rec.next_offset) {
      rec.next_offset = static_cast<std::int64_t>(e->line);
    }
  }
  rec.watermark = released;
  rec.patterns.clear();
  for (const service::ServeRuntime::CatchUpOperator &op : c.ops) {
    service::ChangelogPattern &p = rec.patterns.emplace_back();
    p.pattern = op.pattern;
    p.version = op.version;
    p.artifact_hash = op.hash;
    p.draining = op.draining; // its keys restore into the draining version (format 5)
    if (op.aggregate) { // its open windows and its watermark (the header), as the served set's
      std::tie(p.own_from, p.own_before) = runtime::native::ownedWindows(*op.matcher);
      runtime::MatcherChanges changes;
      runtime::native::exportAggregateRecords(*op.matcher, changes);
      p.header = changes.header;
      for (auto &[key, record] : changes.put) {
        p.records.push_back(std::move(record));
      }
      continue;
    }
    runtime::MatcherState state;
    op.matcher->exportState(state);
    p.records = runtime::keyRecordsOf(state, [](std::string_view) { return true; });
  }
  return true;
}

std::int64_t ServeKafka::CatchUpChanges::nextChange() const {
  return pending.empty() ? runtime::kEndOfTime : pending.front()->at;
}

void ServeKafka::CatchUpChanges::applyNext(std::int64_t time) {
  (void)time;
  std::shared_ptr<const service::ServeRuntime::TimedChange> change = pending.front();
  pending.erase(pending.begin());
  kafka->applyCatchUpChange(partition, *change, /*late=*/false);
}

void ServeKafka::onTimedChange(
    const std::shared_ptr<const service::ServeRuntime::TimedChange> &change) {
  if (change->http) {
    // An admin endpoint's: no catch-up runs (the change guard refused it then), so it only goes
    // into the history, at the event time this member's keys switched at.
    if (registry_ != nullptr) {
      if (rule_history_http_ == nullptr) {
        rule_history_http_ = &registry_->counter(
            "cep_kafka_rule_history_http_changes_total",
            "Deploys and undeploys over HTTP recorded in the history catch-ups replay, at "
            "this member's watermark + 1 when they were applied.");
      }
      rule_history_http_->add();
    }
    kafkaLog("rules history: the " + change->what + " switched this member's keys at event time " +
             timeText(change->at) +
             " (its watermark then + 1): a partition taken over behind it "
             "applies it there when it catches up");
  }
  rule_history_.push_back(change);
  boundRuleHistory(); // serve_kafka_rule_history.cpp: --rule-history-retention; the gauge
  restoreHeldDrain(change.get()); // serve_kafka_hold_drain.cpp: its draining entries first
  restoreHeld(change.get());      // serve_kafka_rule_history.cpp: a partition taken over ahead
  for (auto &[partition, c] : catch_up_) {
    const std::int64_t reached = c->loop->driver().time();
    if (reached != runtime::kNoWatermark && change->at <= reached + 1) {
      // Due now (every event before its time released) or past: applied here at once.
      applyCatchUpChange(partition, *change, /*late=*/change->at <= reached);
      continue;
    }
    auto before = [](const std::shared_ptr<const service::ServeRuntime::TimedChange> &a,
                     const std::shared_ptr<const service::ServeRuntime::TimedChange> &b) {
      return a->at < b->at;
    };
    auto &pending = c->changes.pending;
    pending.insert(std::upper_bound(pending.begin(), pending.end(), change, before), change);
    kafkaLog(sources_.front()->splitName(static_cast<std::uint32_t>(partition)) +
             ": catching up at " + timeText(c->loop->ingest().watermark()) + ": the " +
             change->what + " due at " + timeText(change->at) +
             " is applied here when its own watermark reaches it");
  }
}

void ServeKafka::applyCatchUpChange(std::int32_t p,
                                    const service::ServeRuntime::TimedChange &change, bool late) {
  CatchUp &c = *catch_up_.at(p);
  const std::string name = sources_.front()->splitName(static_cast<std::uint32_t>(p));
  std::string line;
  try {
    line = served_->applyToCatchUp(*c.loop, c.ops, change);
  } catch (const std::exception &e) {
    fail("the catch-up of " + name + ": the " + change.what + ": " + e.what());
    return;
  }
  ++c.rule_changes;
  kafkaLog(name + ": catching up: the " + change.what +
           (late ? " applied LATE here (its time " + timeText(change.at) +
                       " is behind this catch-up's " + timeText(c.loop->driver().time()) + ")"
                 : " applied at event time " + timeText(change.at)) +
           ": " + line);
}

} // namespace cep::cli
