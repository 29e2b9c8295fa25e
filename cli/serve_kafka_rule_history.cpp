// The rules topic's changes and a partition's changelog record (docs/kafka.md "A partition
// taken over behind the member", "Rules topic"): a record holds the keys as its writer had
// them at its watermark, after the rule changes due up to there. A member that holds no
// partition yet (a first start, a restart from its --state folder: with --scale-out the
// folder's checkpoint is not restored, the rules topic is read whole and every change is
// pending) applies those changes to its served set before the record's keys go in
// (applyRulesBefore), so the keys meet the versions they were written under, and the changes
// go into rule_history_ for the catch-ups of partitions taken over behind them later.
//
// The history's bound (boundRuleHistory): a change is needed only while a partition could be
// restored at a watermark before it. The member cannot know every partition's (a record may
// be written by any member), so --rule-history-retention D (event time, default 24h) says how
// far behind this member's event time a taken partition may be and still be replayed exactly,
// as Kafka Streams' store retention or Flink's state TTL bound what is kept: changes due more
// than D behind are dropped (a log line each, cep_kafka_rule_history_dropped_total), and a
// catch-up from before a dropped change falls back to the versions served now (ruleHistoryGap,
// said in its start line).
#include "cli/serve_kafka.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>
#include <optional>

namespace cep::cli {

namespace {

std::string timeText(std::int64_t t) {
  return t == runtime::kNoWatermark ? std::string("none") : runtime::formatRfc3339(t);
}

std::string durationText(std::int64_t ms) {
  if (ms % 3600000 == 0) {
    return std::to_string(ms / 3600000) + "h";
  }
  if (ms % 60000 == 0) {
    return std::to_string(ms / 60000) + "m";
  }
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

} // namespace

void ServeKafka::applyRulesBefore(const std::vector<service::ChangelogRecord> &records,
                                  const std::vector<std::int32_t> &partitions) {
  if (records.empty() || records.size() != partitions.size() || !catch_up_.empty() ||
      loop_->timeMode() != runtime::TimeMode::Event || loop_->driver().buffered() != 0) {
    return; // a partition without a record, or this member holds events already
  }
  const runtime::kafka::KafkaSource &source = *sources_.front();
  for (std::uint32_t p = 0; p < source.splits(); ++p) {
    const bool assigned_now = std::find(partitions.begin(), partitions.end(),
                                        static_cast<std::int32_t>(p)) != partitions.end();
    if (!assigned_now && source.assigned(p)) {
      return; // it holds another partition: its served set is at its own event time
    }
  }
  std::int64_t upto = runtime::kEndOfTime;
  for (const service::ChangelogRecord &rec : records) {
    if (rec.watermark == runtime::kNoWatermark) {
      return;
    }
    upto = std::min(upto, rec.watermark);
  }
  const std::int64_t reached = loop_->driver().time();
  if (reached != runtime::kNoWatermark && reached >= upto) {
    return;
  }
  const std::size_t before = rule_history_.size();
  // No event is held and no key is served (it holds no partition): the driver's time moves to
  // the records' watermark, applying the changes due up to watermark + 1 at their times.
  if (!loop_->driver().release(upto)) {
    fail("applying the rules topic's changes up to " + runtime::formatRfc3339(upto) +
         " before restoring " + partitionNames(source.topic(), partitions) + ": " +
         loop_->message());
    return;
  }
  if (rule_history_.size() > before) {
    kafkaLog("group " + source.group() + ": " + partitionNames(source.topic(), partitions) +
             ": the rules topic's changes due up to their records' watermark " +
             runtime::formatRfc3339(upto) + " applied before their keys are restored (" +
             std::to_string(rule_history_.size() - before) +
             (rule_history_.size() - before == 1 ? " change" : " changes") +
             "): their writers had applied them");
  }
}

void ServeKafka::holdAhead(std::vector<service::ChangelogRecord> &records) {
  if (!pending_deploy_ || records.empty() || loop_->timeMode() != runtime::TimeMode::Event) {
    return;
  }
  const runtime::kafka::KafkaSource &source = *sources_.front();
  const std::vector<service::ServeRuntime::SetVersion> served = served_->servedSet();
  auto is_served = [&](const service::ChangelogPattern &entry) {
    return std::any_of(served.begin(), served.end(), [&](const auto &v) {
      return v.name == entry.pattern && v.hash == entry.artifact_hash;
    });
  };
  const std::int64_t reached = loop_->driver().time();
  for (service::ChangelogRecord &rec : records) {
    if (rec.watermark == runtime::kNoWatermark || rec.watermark == runtime::kEndOfTime) {
      continue;
    }
    const auto p = static_cast<std::int32_t>(rec.partition);
    std::vector<service::ChangelogPattern> kept;
    for (service::ChangelogPattern &entry : rec.patterns) {
      // The writer applied the changes due up to its watermark + 1 (the driver applies one at
      // T once the watermark reaches T - 1). A draining entry goes in as a restore puts it.
      std::optional<std::int64_t> due;
      if (!entry.draining && !entry.records.empty() && !is_served(entry)) {
        due = pending_deploy_(entry.artifact_hash, rec.watermark + 1);
      }
      if (!due) {
        kept.push_back(std::move(entry));
        continue;
      }
      kafkaLog("group " + source.group() + ": " + source.splitName(rec.partition) +
               ": taken over ahead of this member (its watermark " + timeText(rec.watermark) +
               ", this member's " + timeText(reached) + "): its " +
               std::to_string(entry.records.size()) + " keys of " + entry.pattern + " " +
               entry.version + " wait for the rules topic's deploy of " + entry.version +
               " due at " + timeText(*due) +
               ", which their writer had applied: they go into that version when it is applied "
               "here");
      held_ahead_[p].push_back({*due, std::move(entry)});
    }
    rec.patterns = std::move(kept);
  }
}

std::optional<std::vector<std::string>>
ServeKafka::restoreHeldRecord(const service::ChangelogRecord &rec, const std::string &name,
                              const std::string &what) {
  std::vector<std::string> lines;
  try {
    const std::vector<service::ChangelogRecord> own = {rec};
    lines = served_->restorePartitions(*loop_, service::recordsByPattern(own), changelogArtifact());
  } catch (const std::exception &e) {
    fail("cannot restore the " + what + " of " + name + ": " + e.what());
    return std::nullopt;
  }
  served_->exportWholeNext();
  dirty_.insert(static_cast<std::int32_t>(rec.partition)); // its record is written again
  return lines;
}

void ServeKafka::restoreHeld(const service::ServeRuntime::TimedChange *change) {
  if (held_ahead_.empty() || served_ == nullptr || loop_ == nullptr) {
    return;
  }
  std::string hash; // of the version `change` deploys: its operators' in the served set now
  if (change != nullptr && change->deploy) {
    for (const service::ServeRuntime::SetVersion &v : served_->servedSet()) {
      for (const service::ServeRuntime::TimedChange::Op &op : change->ops) {
        if (v.id == op.id && !v.draining) {
          hash = v.hash;
        }
      }
    }
  }
  const std::int64_t reached = loop_->driver().time();
  const runtime::kafka::KafkaSource &source = *sources_.front();
  for (auto it = held_ahead_.begin(); it != held_ahead_.end();) {
    const std::int32_t p = it->first;
    service::ChangelogRecord deployed, overdue; // entries going in now
    deployed.partition = overdue.partition = static_cast<std::uint32_t>(p);
    std::vector<HeldEntry> still;
    for (HeldEntry &held : it->second) {
      if (!hash.empty() && held.entry.artifact_hash == hash) {
        deployed.patterns.push_back(std::move(held.entry));
      } else if (reached != runtime::kNoWatermark && held.due <= reached) {
        overdue.patterns.push_back(std::move(held.entry)); // its deploy was not applied here
      } else {
        still.push_back(std::move(held));
      }
    }
    const std::string name = source.splitName(static_cast<std::uint32_t>(p));
    for (service::ChangelogRecord *rec : {&deployed, &overdue}) {
      if (rec->patterns.empty()) {
        continue;
      }
      const std::optional<std::vector<std::string>> lines =
          restoreHeldRecord(*rec, name, "held keys");
      if (!lines) {
        return;
      }
      for (const std::string &line : *lines) {
        kafkaLog(name + ": " +
                 (rec == &deployed
                      ? "its keys held for the " + change->what +
                            " restored into it at event time " + timeText(change->at) + ": "
                      : std::string("its keys held for a deploy that was not applied here by its "
                                    "time (up to ") +
                            timeText(reached) + ") restored into the versions served now: ") +
                 line);
      }
    }
    if (still.empty()) {
      it = held_ahead_.erase(it);
    } else {
      it->second = std::move(still);
      ++it;
    }
  }
}

void ServeKafka::boundRuleHistory() {
  const std::int64_t now = loop_ == nullptr ? runtime::kNoWatermark : loop_->driver().time();
  if (now != runtime::kNoWatermark && now > INT64_MIN + rule_history_retention_ms_) {
    // A partition restored at a watermark W at or after `floor` needs the changes due after
    // W + 1 (startCatchUp): those due at or before floor + 1 are no partition's at or after it.
    const std::int64_t floor = now - rule_history_retention_ms_;
    for (auto it = rule_history_.begin(); it != rule_history_.end();) {
      const auto &change = *it;
      if (change->at > floor + 1) {
        ++it;
        continue;
      }
      rule_history_complete_ = std::max(rule_history_complete_, change->at);
      if (registry_ != nullptr) {
        if (rule_history_dropped_ == nullptr) {
          rule_history_dropped_ = &registry_->counter(
              "cep_kafka_rule_history_dropped_total",
              "Rule changes dropped from the history catch-ups replay: due more than "
              "--rule-history-retention of event time behind this member.");
        }
        rule_history_dropped_->add();
      }
      kafkaLog("rules history: the " + change->what + " due at " + timeText(change->at) +
               " is dropped from the changes a catch-up replays: it is more than "
               "--rule-history-retention " +
               durationText(rule_history_retention_ms_) + " of event time behind this member (" +
               timeText(now) +
               "); a partition taken over behind it catches up from the "
               "versions served now");
      it = rule_history_.erase(it);
    }
  }
  countRuleHistory();
}

std::string ServeKafka::ruleHistoryGap(std::int64_t watermark) const {
  // Every change not in the history is due at or before rule_history_complete_; one due at T is
  // needed from a watermark W when T > W + 1.
  if (rule_history_complete_ == kNoRuleHistoryFloor ||
      (watermark != runtime::kNoWatermark && rule_history_complete_ <= watermark + 1)) {
    return {};
  }
  return "its watermark is before rule changes dropped from this member's history (due up to " +
         timeText(rule_history_complete_) + ", more than --rule-history-retention " +
         durationText(rule_history_retention_ms_) +
         " behind this member), so its set is made as if " +
         "every change had come before its watermark";
}

void ServeKafka::countRuleHistory() {
  if (registry_ == nullptr) {
    return;
  }
  if (rule_history_gauge_ == nullptr) {
    rule_history_gauge_ = &registry_->gauge(
        "cep_kafka_rule_history_changes",
        "Rule changes of the rules topic kept in memory for the catch-ups of partitions taken "
        "over behind them (applied since the start, less those --rule-history-retention "
        "dropped).");
  }
  rule_history_gauge_->set(static_cast<double>(rule_history_.size()));
}

} // namespace cep::cli
