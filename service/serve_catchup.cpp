// A partition's catch-up set (ServeRuntime::catchUpOperators, applyToCatchUp, mergeCatchUp;
// docs/kafka.md "A partition taken over behind the member"): fresh operators of the served
// versions holding one input partition's keys (patterns' partial matches, aggregates' open
// windows), matched apart from the served set under the partition's own watermark; the rules
// topic's changes applied to them at that watermark, mode for mode as applyDeploy and
// applyUndeploy apply them to the served set; merged into the served set by operator id.
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/state/key_record.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/migration.hpp"
#include "runtime/state/partition_state.hpp"
#include "runtime/time/time_format.hpp"
#include "service/serve_runtime.hpp"
#include "service/serve_served.hpp"

#include <algorithm>
#include <stdexcept>

namespace cep::service {

namespace {

// Whether a catch-up operator holds anything to merge (keys, runs, open windows).
bool holdsState(const runtime::Matcher &m) {
  const runtime::MatcherStats s = m.stats();
  return s.live_keys != 0 || s.live_runs != 0 || s.windows != 0;
}

} // namespace

std::vector<ServeRuntime::SetVersion> ServeRuntime::servedSet() const {
  std::vector<SetVersion> set;
  for (const auto &served : served_) {
    if (!served->in_operators) {
      continue;
    }
    SetVersion &v = set.emplace_back();
    v.id = served->id;
    v.name = served->name;
    v.version = served->version;
    v.hash = served->hash;
    v.aggregate = served->aggregate != nullptr;
    v.draining = served->draining;
    v.loaded = served->loaded;
    v.schema = served->schema;
  }
  return set;
}

std::vector<ServeRuntime::CatchUpOperator> ServeRuntime::catchUpOperators(
    const std::vector<SetVersion> *set, const std::vector<ChangelogPattern> *patterns,
    std::uint64_t &next_seq, std::string &why_not, runtime::RunLoop &loop,
    const ArtifactOf &artifact, std::vector<std::string> &lines) {
  const std::vector<SetVersion> now = set == nullptr ? servedSet() : std::vector<SetVersion>{};
  const std::vector<SetVersion> &versions = set == nullptr ? now : *set;
  // The record's entries by the version they go to (an index of `versions`): the version of
  // their name and version, else the active one of their name; entries of no version here are
  // not restored (as a changelog restore: a pattern no longer served). An entry of a draining
  // version goes only to that version draining here; else it is served again from its
  // artifact (`revived`, catchUpDraining), never into the active version of its name.
  std::map<std::size_t, PatternRecords> into;
  std::map<std::size_t, const ChangelogPattern *> share; // an aggregate version's entry
  std::map<std::string, std::pair<const ChangelogPattern *, PatternRecords>> revived; // by hash
  if (patterns != nullptr) {
    for (const ChangelogPattern &p : *patterns) {
      std::size_t found = versions.size(), active = versions.size();
      bool served_active = false;
      for (std::size_t i = 0; i < versions.size(); ++i) {
        const SetVersion &v = versions[i];
        if (v.name != p.pattern) {
          continue;
        }
        if (!v.draining) {
          active = i;
        }
        if (v.version == p.version && (p.artifact_hash.empty() || p.artifact_hash == v.hash)) {
          if (!p.draining || v.draining) {
            found = i;
          }
          served_active = served_active || !v.draining;
        }
      }
      if (p.draining && found == versions.size()) {
        const std::string what = p.pattern + " " + p.version + " (draining)";
        if (served_active) {
          lines.push_back(what + ": NOT restored in the catch-up: the state of its " +
                          std::to_string(p.records.size()) +
                          " keys is the draining version's, and the catch-up set serves that "
                          "version as the active one (start it with the version it drains to)");
        } else if (!p.records.empty()) {
          auto &[entry, in] = revived[p.pattern + "\n" + p.artifact_hash];
          entry = &p;
          in.records.insert(in.records.end(), p.records.begin(), p.records.end());
          if (!p.header.empty()) {
            in.headers.push_back(p.header);
          }
        }
        continue;
      }
      const bool exact = found != versions.size();
      if (!exact) {
        found = active;
      }
      if (found == versions.size()) {
        continue;
      }
      PatternRecords &to = into[found];
      to.records.insert(to.records.end(), p.records.begin(), p.records.end());
      if (!p.header.empty()) {
        to.headers.push_back(p.header);
        if (exact) {
          share[found] = &p; // its windows' share, as recorded for that version
        }
      }
    }
  }
  std::vector<CatchUpOperator> ops;
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const SetVersion &v = versions[i];
    auto it = into.find(i);
    if (v.draining && (it == into.end() || it->second.records.empty())) {
      continue; // a draining version is made only to hold the keys it drains
    }
    if (!v.loaded) {
      throw std::runtime_error((v.aggregate ? "aggregate " : "pattern ") + v.name + " " +
                               v.version + ": its artifact is not kept (internal error)");
    }
    CatchUpOperator op;
    op.id = v.id;
    op.pattern = v.name;
    op.version = v.version;
    op.hash = v.hash;
    op.loaded = v.loaded;
    op.schema = v.schema;
    op.matcher = freshOperator(*v.loaded, v.name);
    op.aggregate = runtime::native::isAggregate(*op.matcher);
    for (std::size_t k = 0; k < v.loaded->names.size(); ++k) {
      const auto &image = v.loaded->aggregates[k];
      if (v.loaded->names[k] == v.name && image && image->key_fields.empty()) {
        why_not = "aggregate " + v.name +
                  " has no `partition by` (its windows hold every partition's events)";
        return {};
      }
    }
    if (it != into.end() && !it->second.records.empty()) {
      try {
        if (op.aggregate) {
          std::string_view header = runtime::aggregate::latestSnapshotHeader(it->second.headers);
          if (header.empty()) {
            throw std::runtime_error("its key records come without the aggregate's header");
          }
          runtime::native::restoreAggregateRecords(*op.matcher, header, it->second.records);
        } else {
          runtime::MatcherState empty;
          op.matcher->exportState(empty);
          op.matcher->restoreState(runtime::withKeys(empty, it->second.records, next_seq));
        }
      } catch (const std::exception &e) {
        throw std::runtime_error((op.aggregate ? "aggregate " : "pattern ") + v.name + " " +
                                 v.version + ": " + e.what());
      }
    } else if (op.aggregate && it != into.end() && !it->second.headers.empty()) {
      // No key of the partition, but the watermark its windows fired up to.
      runtime::native::restoreAggregateRecords(
          *op.matcher, runtime::aggregate::latestSnapshotHeader(it->second.headers), {});
    }
    if (auto entry = share.find(i);
        op.aggregate && entry != share.end() &&
        (entry->second->own_from != INT64_MIN || entry->second->own_before != INT64_MAX)) {
      // A drain's version: the windows it writes, as its writer recorded them.
      runtime::native::ownWindows(*op.matcher, entry->second->own_from, entry->second->own_before);
    } else if (v.draining) { // a drain deploy or undeploy drained it before its watermark
      op.matcher->drain();
    }
    op.draining = v.draining;
    ops.push_back(std::move(op));
  }
  for (auto &[name_hash, revive] : revived) {
    const ChangelogPattern &entry = *revive.first;
    std::optional<CatchUpOperator> op = catchUpDraining(
        entry.pattern, entry.artifact_hash, entry, revive.second, next_seq, loop, artifact, lines);
    if (op) {
      ops.push_back(std::move(*op));
    }
  }
  return ops;
}

void ServeRuntime::countCatchUp(const CatchUpOperator &op) {
  const runtime::MatcherStats s = op.matcher->stats();
  const std::uint64_t matches = s.matches - std::min(s.matches, op.matches_base);
  const std::uint64_t timeouts = s.timeouts - std::min(s.timeouts, op.timeouts_base);
  metrics_.outputs.add(matches + timeouts);
  // Its served version by id; else (retired meanwhile) the active version of its name.
  Served *into = nullptr;
  for (const auto &served : served_) {
    if (served->id == op.id && served->name == op.pattern) {
      into = served.get();
    }
  }
  if (into == nullptr) {
    into = active(op.pattern);
  }
  if (into != nullptr && into->series) {
    into->series->matches.add(matches);
    into->series->timeouts.add(timeouts);
  }
}

std::string ServeRuntime::applyToCatchUp(runtime::RunLoop &catch_up,
                                         std::vector<CatchUpOperator> &ops,
                                         const TimedChange &change) {
  if (change.schema && change.schema->types.size() > catch_up.ingest().schema().types.size()) {
    catch_up.extendSchema(*change.schema); // the event types the change added
  }
  auto activeOp = [&](const std::string &name) -> CatchUpOperator * {
    for (CatchUpOperator &op : ops) {
      if (op.pattern == name && !op.draining) {
        return &op;
      }
    }
    return nullptr;
  };
  std::string line;
  auto say = [&line](const std::string &part) { line += (line.empty() ? "" : "; ") + part; };
  if (!change.deploy) {
    CatchUpOperator *op = activeOp(change.pattern);
    if (op == nullptr) {
      return change.pattern + " is not in the catch-up set: nothing to undeploy";
    }
    if (change.undeploy_mode == UndeployMode::Drop) {
      countCatchUp(*op);
      const std::uint64_t dropped = op->matcher->dropState();
      metrics_.runsDropped(op->pattern, "drop").add(dropped);
      catch_up.operators().remove(op->id);
      say(op->pattern + ": " + std::to_string(dropped) +
          (op->aggregate ? " open windows dropped" : " partial matches dropped"));
      op->matcher.reset(); // before its code and schema go (the erase moves over it)
      ops.erase(ops.begin() + (op - ops.data()));
    } else {
      op->matcher->drain();
      op->draining = true;
      say(op->pattern + " drains");
    }
    return line;
  }
  std::vector<CatchUpOperator> added;
  for (const TimedChange::Op &c : change.ops) {
    CatchUpOperator fresh;
    fresh.id = c.id;
    fresh.pattern = c.name;
    fresh.version = change.loaded->artifact.version();
    fresh.hash = change.loaded->artifact.hash;
    fresh.loaded = change.loaded;
    fresh.schema = change.loaded->artifact.schema;
    fresh.matcher = freshOperator(*change.loaded, c.name);
    fresh.aggregate = runtime::native::isAggregate(*fresh.matcher);
    CatchUpOperator *old = activeOp(c.name);
    if (old == nullptr) {
      catch_up.operators().add(fresh.id, fresh.matcher.get());
      say(c.name + " added");
      added.push_back(std::move(fresh));
      continue;
    }
    if (old->aggregate != fresh.aggregate) {
      throw std::runtime_error(c.name + " is a pattern on one side and an aggregate on the other "
                                        "(internal: the served set refused it)");
    }
    switch (change.deploy_mode) {
    case DeployMode::Keep: {
      std::string moved;
      try {
        if (fresh.aggregate) {
          runtime::native::moveAggregateWindows(*fresh.matcher, *old->matcher);
          auto [from, before] = runtime::native::ownedWindows(*old->matcher);
          runtime::native::ownWindows(*fresh.matcher, from, before);
          moved = std::to_string(fresh.matcher->stats().windows) + " open windows moved";
        } else {
          runtime::MigrationReport report;
          if (!options_.no_adopt && fresh.matcher->canAdopt(*old->matcher)) {
            report = fresh.matcher->adoptFrom(*old->matcher);
          } else {
            runtime::MatcherState state;
            old->matcher->exportState(state);
            report = fresh.matcher->migrateFrom(state);
          }
          if (!report.ok()) {
            throw std::runtime_error(report.reasons.empty() ? std::string("refused")
                                                            : report.reasons.front());
          }
          moved = std::to_string(report.runs_moved) + " partial matches moved";
        }
      } catch (const std::exception &e) {
        // The served set moved its own; these cannot move (another state): they go, said.
        fresh.matcher = freshOperator(*change.loaded, c.name);
        const std::uint64_t dropped = old->matcher->dropState();
        metrics_.runsDropped(c.name, "keep").add(dropped);
        moved = std::to_string(dropped) + " could not move and are dropped (" + e.what() + ")";
      }
      countCatchUp(*old);
      const runtime::MatcherStats s = fresh.matcher->stats();
      fresh.matches_base = s.matches;
      fresh.timeouts_base = s.timeouts;
      catch_up.operators().replace(fresh.id, fresh.matcher.get());
      say(c.name + " replaced (keep): " + moved);
      old->matcher.reset(); // before its code and schema go (the move assigns them first)
      *old = std::move(fresh);
      break;
    }
    case DeployMode::Fresh: {
      if (old->aggregate) { // as the served set's: a draining version's windows stay its own
        auto [from, before] = runtime::native::ownedWindows(*old->matcher);
        runtime::native::ownWindows(*fresh.matcher, from, before);
        if (from != INT64_MIN) { // and it knows the older versions' sessions and cells
          runtime::native::seedDrain(*fresh.matcher, *old->matcher, from);
        }
      }
      countCatchUp(*old);
      const std::uint64_t dropped = old->matcher->dropState();
      metrics_.runsDropped(c.name, "fresh").add(dropped);
      catch_up.operators().replace(fresh.id, fresh.matcher.get());
      say(c.name + " replaced (fresh): " + std::to_string(dropped) +
          (old->aggregate ? " open windows dropped" : " partial matches dropped"));
      old->matcher.reset(); // before its code and schema go (the move assigns them first)
      *old = std::move(fresh);
      break;
    }
    case DeployMode::Drain: {
      if (old->aggregate) {
        const std::int64_t at = runtime::native::drainSwitchTime(*old->matcher);
        runtime::native::ownWindows(*fresh.matcher, at, INT64_MAX);
        runtime::native::seedDrain(*fresh.matcher, *old->matcher, at);
      }
      old->matcher->drain();
      old->draining = true;
      catch_up.operators().remove(old->id);
      old->id = c.draining_id; // the served set's old version drains under this id
      catch_up.operators().add(old->id, old->matcher.get());
      catch_up.operators().add(fresh.id, fresh.matcher.get());
      say(c.name + " replaced (drain): the old version drains");
      added.push_back(std::move(fresh));
      break;
    }
    }
  }
  for (CatchUpOperator &op : added) {
    ops.push_back(std::move(op));
  }
  return line;
}

std::vector<std::string> ServeRuntime::mergeCatchUp(runtime::RunLoop &loop,
                                                    std::vector<CatchUpOperator> &ops) {
  std::vector<std::string> lines;
  std::uint64_t next_seq = loop.ingest().nextSeq();
  for (CatchUpOperator &op : ops) {
    countCatchUp(op);
    Served *into = nullptr;
    for (const auto &served : served_) {
      if (served->id == op.id && served->name == op.pattern && served->in_operators) {
        into = served.get();
      }
    }
    if (into == nullptr && op.draining) {
      // Served again in the catch-up from its artifact (catchUpDraining), or its served
      // version drained under another id: the member's version draining under that name and
      // artifact takes its keys, as a changelog restore puts them (restoreDraining).
      for (const auto &served : served_) {
        if (served->name == op.pattern && served->hash == op.hash && served->draining &&
            served->in_operators) {
          into = served.get();
        }
      }
    }
    const std::string what = op.pattern + " " + op.version + (op.draining ? " (draining)" : "");
    if (!holdsState(*op.matcher)) {
      continue;
    }
    if (into == nullptr && op.draining) {
      // The served set's old version drained and went already; this one still holds runs or
      // windows: it is served again, draining, until they are gone.
      auto served = std::make_unique<Served>();
      served->name = op.pattern;
      served->version = op.version;
      served->hash = op.hash;
      served->loaded_at = now();
      served->draining = true;
      served->schema = op.schema;
      served->loaded = op.loaded;
      served->artifact_bytes = op.loaded->bytes;
      for (std::size_t i = 0; i < op.loaded->names.size(); ++i) {
        if (op.loaded->names[i] == op.pattern) {
          served->image = op.loaded->images[i];
          served->aggregate = op.loaded->aggregates[i];
        }
      }
      served->id = loop.operators().nextId();
      served->matcher = std::move(op.matcher);
      loop.operators().add(served->id, served->matcher.get());
      startSeries(*served);
      lines.push_back(what + ": served again, draining, with the catch-up's state (the served "
                             "version had drained already)");
      served_.push_back(std::move(served));
      continue;
    }
    if (into == nullptr) {
      throw std::runtime_error(what + ": no served version under its operator id (internal)");
    }
    if (op.aggregate) {
      runtime::MatcherChanges changes;
      runtime::native::exportAggregateRecords(*op.matcher, changes);
      PatternRecords in;
      for (const auto &[key, record] : changes.put) {
        in.records.push_back(record);
      }
      in.headers.push_back(changes.header);
      std::string line;
      try {
        line = what + ": " + restoreWindows(loop, *into, in, /*own_watermark=*/true);
      } catch (const std::exception &e) {
        throw std::runtime_error("aggregate " + what + ": " + e.what());
      }
      // The active version of a drain (its share recorded: the windows from the switch time
      // on) into a served version without a share of its own (a member started after the
      // drain): it takes the share, or it would write the draining version's windows too (as
      // a changelog restore gives it, restoreDraining).
      const std::pair<std::int64_t, std::int64_t> all(INT64_MIN, INT64_MAX);
      const auto share = runtime::native::ownedWindows(*op.matcher);
      if (!op.draining && !into->draining && share != all &&
          runtime::native::ownedWindows(*into->matcher) == all) {
        runtime::native::ownWindows(*into->matcher, share.first, share.second);
        line += " (it writes the windows that start from " + runtime::formatRfc3339(share.first) +
                " on, the drain's split recorded for the partition)";
      }
      lines.push_back(std::move(line));
      continue;
    }
    runtime::MatcherState state;
    op.matcher->exportState(state);
    const std::vector<std::string> records =
        runtime::keyRecordsOf(state, [](std::string_view) { return true; });
    const std::vector<std::string_view> views(records.begin(), records.end());
    lines.push_back(what + ": " + restoreKeys(loop, *into, views, next_seq));
  }
  loop.ingest().raiseNextSeq(next_seq);
  exportWholeNext(); // the changelog's mirror gets the keys merged
  return lines;
}

} // namespace cep::service
