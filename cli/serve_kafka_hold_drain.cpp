// A partition taken over AHEAD of this member whose record's writer had applied a rules-topic
// drain still pending here (docs/kafka.md "A partition taken over behind the member"): the
// record marks the old version's entries draining (their runs or windows started before the
// switch) while this member still serves that version as its active one. Restored as a
// changelog restore puts them, they were lost ("NOT restored: ... this server serves that
// version as the active one"). So they wait, as holdAhead's entries of a version a pending
// deploy brings (serve_kafka_rule_history.cpp), in held_ahead_ (entry.draining tells them
// apart), and go in once the drain is applied here: into the draining version the drain made
// of this member's active one (or, when that drained away at once, that version served again,
// draining, from its artifact in the changelog topic, as restorePartitions does). The new
// version's entries wait for the same change through holdAhead. A drain that does not come by
// its time (refused here) puts them into the active version they were written by: their runs
// or windows go on there, said in a line.
#include "cli/serve_kafka.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>

namespace cep::cli {

namespace {

std::string timeText(std::int64_t t) {
  return t == runtime::kNoWatermark ? std::string("none") : runtime::formatRfc3339(t);
}

// Whether `set` serves the version of `entry` (by name and artifact hash) as an active one, and
// whether as a draining one.
struct Serves {
  bool active = false, draining = false;
};
Serves servesVersion(const std::vector<service::ServeRuntime::SetVersion> &set,
                     const service::ChangelogPattern &entry) {
  Serves out;
  for (const service::ServeRuntime::SetVersion &v : set) {
    if (v.name == entry.pattern && v.hash == entry.artifact_hash) {
      (v.draining ? out.draining : out.active) = true;
    }
  }
  return out;
}

} // namespace

void ServeKafka::holdAheadDrain(std::vector<service::ChangelogRecord> &records) {
  if (!pending_drain_ || records.empty() || loop_->timeMode() != runtime::TimeMode::Event) {
    return;
  }
  const runtime::kafka::KafkaSource &source = *sources_.front();
  const std::vector<service::ServeRuntime::SetVersion> served = served_->servedSet();
  const std::int64_t reached = loop_->driver().time();
  for (service::ChangelogRecord &rec : records) {
    if (rec.watermark == runtime::kNoWatermark || rec.watermark == runtime::kEndOfTime) {
      continue;
    }
    const auto p = static_cast<std::int32_t>(rec.partition);
    std::vector<service::ChangelogPattern> kept;
    for (service::ChangelogPattern &entry : rec.patterns) {
      // Only the case a restore loses: this member serves the draining entry's version as its
      // active one and has no draining version of it. The writer applied the changes due up to
      // its watermark + 1 (the driver applies one at T once the watermark reaches T - 1).
      std::optional<std::int64_t> due;
      if (entry.draining && !entry.records.empty()) {
        const Serves here = servesVersion(served, entry);
        if (here.active && !here.draining) {
          due = pending_drain_(entry.pattern, rec.watermark + 1);
        }
      }
      if (!due) {
        kept.push_back(std::move(entry));
        continue;
      }
      kafkaLog("group " + source.group() + ": " + source.splitName(rec.partition) +
               ": taken over ahead of this member (its watermark " + timeText(rec.watermark) +
               ", this member's " + timeText(reached) + "): its " +
               std::to_string(entry.records.size()) + " keys of " + entry.pattern + " " +
               entry.version + " (draining) wait for the rules topic's change due at " +
               timeText(*due) + " that drains " + entry.pattern +
               ", which their writer had applied: they go into the draining " + entry.pattern +
               " " + entry.version + " when it is applied here");
      held_ahead_[p].push_back({*due, std::move(entry)});
    }
    rec.patterns = std::move(kept);
  }
}

void ServeKafka::restoreHeldDrain(const service::ServeRuntime::TimedChange *change) {
  if (held_ahead_.empty() || served_ == nullptr || loop_ == nullptr) {
    return;
  }
  const std::vector<service::ServeRuntime::SetVersion> served = served_->servedSet();
  const std::int64_t reached = loop_->driver().time();
  const runtime::kafka::KafkaSource &source = *sources_.front();
  for (auto it = held_ahead_.begin(); it != held_ahead_.end();) {
    const std::int32_t p = it->first;
    service::ChangelogRecord drained, overdue; // entries going in now
    drained.partition = overdue.partition = static_cast<std::uint32_t>(p);
    std::vector<HeldEntry> still;
    for (HeldEntry &held : it->second) {
      if (!held.entry.draining) {
        still.push_back(std::move(held)); // a deploy's (restoreHeld)
        continue;
      }
      const Serves here = servesVersion(served, held.entry);
      if (!here.active) {
        drained.patterns.push_back(std::move(held.entry)); // its version drains here now
      } else if (reached != runtime::kNoWatermark && held.due <= reached) {
        // The drain did not come by its time: the runs or windows go on in the active version
        // that wrote them, as theirs (the whole range of windows: nothing drains it here).
        held.entry.draining = false;
        held.entry.own_from = INT64_MIN;
        held.entry.own_before = INT64_MAX;
        overdue.patterns.push_back(std::move(held.entry));
      } else {
        still.push_back(std::move(held));
      }
    }
    const std::string name = source.splitName(static_cast<std::uint32_t>(p));
    for (service::ChangelogRecord *rec : {&drained, &overdue}) {
      if (rec->patterns.empty()) {
        continue;
      }
      const std::optional<std::vector<std::string>> lines =
          restoreHeldRecord(*rec, name, "held draining keys");
      if (!lines) {
        return;
      }
      std::string why;
      if (rec == &overdue) {
        why = "its draining keys held for a drain that was not applied here by its time (up to " +
              timeText(reached) + ") restored into the active version that wrote them: ";
      } else if (change != nullptr) {
        why = "its draining keys held for the " + change->what +
              " restored into the draining version at event time " + timeText(change->at) + ": ";
      } else {
        why = "its draining keys held for a drain restored into the draining version (their "
              "version no longer active here, at " +
              timeText(reached) + "): ";
      }
      for (const std::string &line : *lines) {
        kafkaLog(name + ": " + why + line);
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

} // namespace cep::cli
