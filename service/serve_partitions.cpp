// Input partitions' keyed state moved into and out of the served matchers (ServeRuntime::
// restorePartitions and dropKeys, patterns' keys and aggregates' open windows, docs/kafka.md "The
// changelog topic" and "Scale-out").
#include "runtime/aggregate/snapshot_format.hpp"
#include "runtime/engine/run_loop.hpp"
#include "runtime/engine/sharded_matcher.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/native/native_record.hpp"
#include "runtime/state/key_record.hpp"
#include "runtime/state/matcher_state.hpp"
#include "runtime/state/partition_state.hpp"
#include "runtime/time/time_format.hpp"
#include "runtime/time/watermarks.hpp"
#include "service/key_shapes.hpp"
#include "service/schema_merge.hpp"
#include "service/serve_runtime.hpp"
#include "service/serve_served.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <stdexcept>

namespace cep::service {

void ServeRuntime::exportWholeNext() {
  for (const auto &served : served_) {
    served->persisted_as.reset(); // serve_durable.cpp: written whole, under its id
  }
}

std::vector<std::unique_ptr<runtime::Matcher>>
ServeRuntime::makeOperators(const compiler::artifact::LoadedArtifact &artifact) const {
  runtime::MatcherOptions options = options_.matcher;
  options.version = artifact.version();
  std::vector<std::unique_ptr<runtime::Matcher>> made = artifact.makeMatchers(options);
  if (options_.workers <= 1) {
    return made;
  }
  // --workers N: N matchers of each operator, one per worker, as one (sharded_matcher.hpp).
  std::vector<std::vector<std::unique_ptr<runtime::Matcher>>> shards(made.size());
  for (std::size_t i = 0; i < made.size(); ++i) {
    shards[i].push_back(std::move(made[i]));
  }
  for (std::uint32_t w = 1; w < options_.workers; ++w) {
    std::vector<std::unique_ptr<runtime::Matcher>> more = artifact.makeMatchers(options);
    for (std::size_t i = 0; i < more.size(); ++i) {
      shards[i].push_back(std::move(more[i]));
    }
  }
  for (std::size_t i = 0; i < made.size(); ++i) {
    made[i] = std::make_unique<runtime::ShardedMatcher>(std::move(shards[i]));
  }
  return made;
}

std::unique_ptr<runtime::Matcher> ServeRuntime::freshOperator(const Loaded &loaded,
                                                              const std::string &name) const {
  const compiler::artifact::LoadedArtifact &artifact = loaded.artifact;
  std::vector<std::unique_ptr<runtime::Matcher>> fresh = makeOperators(artifact);
  for (std::size_t i = 0; i < fresh.size() && i < loaded.names.size(); ++i) {
    if (loaded.names[i] == name) {
      return std::move(fresh[i]);
    }
  }
  throw std::runtime_error("pattern " + name + " is not in its artifact " + artifact.version() +
                           " (internal error)");
}

std::unique_ptr<runtime::Matcher> ServeRuntime::freshMatcher(const Served &served) const {
  if (!served.loaded) {
    throw std::runtime_error("pattern " + served.name + " " + served.version +
                             ": its artifact is not kept (internal error)");
  }
  return freshOperator(*served.loaded, served.name);
}

void ServeRuntime::replaceMatcher(runtime::RunLoop &loop, Served &served,
                                  std::unique_ptr<runtime::Matcher> matcher) {
  if (served.in_operators) {
    loop.operators().replace(served.id, matcher.get());
  }
  served.matcher = std::move(matcher);
  served.persisted_as.reset(); // the next checkpoint writes it whole (the store, the changelog)
}

void ServeRuntime::replaceState(runtime::RunLoop &loop, Served &served,
                                const runtime::MatcherState &state) {
  std::unique_ptr<runtime::Matcher> matcher = freshMatcher(served);
  matcher->restoreState(state); // throws with the reason; nothing changed then
  replaceMatcher(loop, served, std::move(matcher));
}

void ServeRuntime::replaceWindows(runtime::RunLoop &loop, Served &served, std::string_view header,
                                  const std::vector<std::string_view> &records) {
  std::unique_ptr<runtime::Matcher> matcher = freshMatcher(served);
  runtime::native::restoreAggregateRecords(*matcher, header, records);  // throws: nothing changed
  auto [from, before] = runtime::native::ownedWindows(*served.matcher); // a drain's share
  runtime::native::ownWindows(*matcher, from, before);
  // The records the old operator wrote are counted now; the fresh one's counts start at zero
  // (its header has none): what it writes from here on is counted against them, not against
  // the old operator's (which would take that many records off cep_output_records_total).
  refresh(loop);
  replaceMatcher(loop, served, std::move(matcher));
  const runtime::MatcherStats s = served.matcher->stats();
  served.matches_seen = s.matches;
  served.timeouts_seen = s.timeouts;
  served.late_counted_seen = s.late_counted;
  served.late_missed_seen = s.late_missed;
  std::copy(std::begin(s.evicted_by), std::end(s.evicted_by), served.evicted_seen);
}

std::string ServeRuntime::restoreWindows(runtime::RunLoop &loop, Served &served,
                                         const PatternRecords &in, bool own_watermark) {
  if (in.headers.empty()) {
    throw std::runtime_error("its key records come without the aggregate's header (a changelog "
                             "record of format version 2 or older, or of a pattern)");
  }
  // Its own windows, less the keys coming in (held here from messages keyed otherwise: the
  // partition's replace them), then the incoming ones.
  runtime::MatcherChanges current;
  runtime::native::exportAggregateRecords(*served.matcher, current);
  std::set<std::string> incoming;
  for (std::string_view record : in.records) {
    incoming.insert(runtime::native::aggregateRecordKey(record));
  }
  std::vector<std::string_view> merged;
  std::size_t replaced = 0;
  for (const auto &[key, record] : current.put) {
    if (incoming.count(key) != 0) {
      ++replaced;
    } else {
      merged.push_back(record);
    }
  }
  const std::size_t before = merged.size();
  const runtime::aggregate::AggregateSpec spec =
      runtime::aggregate::specOfSnapshotHeader(in.headers.front());
  // Every window kind, not in a catch-up: exact whatever the partitions' watermarks. The keys
  // go in under this operator's own watermark (else the member's time: an operator deployed
  // just now; else the lowest of the records'), so this operator's own windows ending between
  // it and a record's later watermark are written when its watermark passes them; the keys of a
  // record ahead of it carry their partition's watermark as a "fired up to" mark
  // (runtime/aggregate/aggregator.hpp fired_): an event of such a key is judged as the record's
  // writer judged it (late where it was late there; with `lateness`, a revision of the window
  // it wrote), and its time windows that fired there are not written again (a session that
  // fired there is not pending in the record).
  std::vector<std::string> marked; // the records ahead, with their mark (merged views them)
  std::string base_header;
  std::size_t ahead = 0;
  std::string_view header = current.header;
  if (!own_watermark && in.record_headers.size() == in.records.size()) {
    std::int64_t base = runtime::aggregate::watermarkOfSnapshotHeader(current.header);
    if (base == runtime::kNoWatermark) {
      base = loop.driver().time();
    }
    if (base == runtime::kNoWatermark) {
      for (std::string_view h : in.headers) {
        const std::int64_t w = runtime::aggregate::watermarkOfSnapshotHeader(h);
        if (w != runtime::kNoWatermark && (base == runtime::kNoWatermark || w < base)) {
          base = w;
        }
      }
    }
    base_header = runtime::aggregate::withSnapshotHeaderWatermark(in.headers.front(), base);
    header = base_header;
    marked.reserve(in.records.size());
    for (std::size_t i = 0; i < in.records.size(); ++i) {
      const std::int64_t w =
          in.record_headers[i].empty()
              ? runtime::kNoWatermark
              : runtime::aggregate::watermarkOfSnapshotHeader(in.record_headers[i]);
      if (base != runtime::kNoWatermark && w > base) {
        marked.push_back(runtime::aggregate::withFiredMark(spec.window, in.records[i], w));
        merged.push_back(marked.back());
        ++ahead;
      } else {
        merged.push_back(in.records[i]);
      }
    }
  } else {
    // A catch-up's windows (own_watermark): those up to its watermark fired there, none of the
    // others: its own watermark, else the first record's. Records without their partitions'
    // headers (none come so from the changelog): the latest watermark.
    merged.insert(merged.end(), in.records.begin(), in.records.end());
    std::int64_t watermark = runtime::aggregate::watermarkOfSnapshotHeader(header);
    for (std::string_view h : in.headers) {
      if (own_watermark && watermark != runtime::kNoWatermark) {
        break;
      }
      std::int64_t w = runtime::aggregate::watermarkOfSnapshotHeader(h);
      if (w > watermark) {
        watermark = w;
        header = h;
      }
    }
  }
  runtime::Matcher &m = *served.matcher;
  const bool fresh =
      m.stats().events == 0 && current.put.empty() &&
      runtime::aggregate::watermarkOfSnapshotHeader(current.header) == runtime::kNoWatermark;
  if (fresh) {
    runtime::native::restoreAggregateRecords(m, header, merged); // at start: it has seen nothing
  } else {
    replaceWindows(loop, served, header, merged);
  }
  std::uint64_t windows = served.matcher->stats().windows;
  return std::to_string(merged.size() - before) + " keys" +
         (replaced == 0 ? std::string()
                        : " (" + std::to_string(replaced) +
                              " held here from messages keyed otherwise replaced)") +
         ", " + std::to_string(windows) + " open windows in all" +
         (ahead == 0 ? std::string()
                     : " (" + std::to_string(ahead) +
                           " keys ahead of this member's watermark: their windows that fired "
                           "where they were written are not written again)");
}

std::string ServeRuntime::restoreKeys(runtime::RunLoop &loop, Served &served,
                                      const std::vector<std::string_view> &in,
                                      std::uint64_t &next_seq) {
  runtime::Matcher &m = *served.matcher;
  const bool fresh = m.stats().events == 0 && m.stats().live_keys == 0;
  runtime::MatcherState current;
  m.exportState(current);
  runtime::MatcherState merged;
  std::size_t before = current.keys.size();
  std::size_t replaced = 0;
  try {
    if (!current.keys.empty()) {
      // A key coming in that is here already came from a message in another partition,
      // keyed otherwise than this pattern (its state split, counted as a mismatch): the
      // partition's state replaces it, so that no key is restored twice.
      std::set<std::string> incoming;
      for (std::string_view record : in) {
        incoming.insert(runtime::decodeKeyRecord(record, *served.schema).key.key_json);
      }
      runtime::MatcherState kept = runtime::withoutKeys(
          current, [&](std::string_view key) { return incoming.count(std::string(key)) != 0; });
      replaced = current.keys.size() - kept.keys.size();
      current = std::move(kept);
      before = current.keys.size();
    }
    merged = runtime::withKeys(current, in, next_seq);
    if (fresh) {
      m.restoreState(merged); // at start: the matcher has seen nothing
    } else {
      replaceState(loop, served, merged); // a partition taken over while running
    }
  } catch (const std::exception &e) {
    throw std::runtime_error("pattern " + served.name + " " + served.version + ": " + e.what());
  }
  return std::to_string(merged.keys.size() - before) + " keys" +
         (replaced == 0 ? std::string()
                        : " (" + std::to_string(replaced) +
                              " held here from messages keyed otherwise replaced)") +
         ", " + std::to_string(merged.runCount()) + " partial matches in all";
}

void ServeRuntime::restoreDraining(runtime::RunLoop &loop, const std::string &name,
                                   const PatternRecords &in, const ArtifactOf &artifact,
                                   std::uint64_t &next_seq, std::vector<std::string> &lines) {
  bool served_again = false;
  for (const auto &[version, part] : in.draining) {
    if (part.records.empty()) {
      continue; // none of its keys in these partitions
    }
    const std::string what = name + " " + version + " (draining)";
    const std::string keys = std::to_string(part.records.size()) + " keys";
    Served *into = nullptr;
    bool served_active = false;
    for (const auto &served : served_) {
      if (served->name == name && served->version == version && served->in_operators) {
        into = served->draining ? served.get() : into;
        served_active = served_active || !served->draining;
      }
    }
    try {
      if (into != nullptr && !into->aggregate) { // it drains here too: its runs join its own
        lines.push_back(what + ": " + restoreKeys(loop, *into, part.records, next_seq));
        continue;
      }
      if (into != nullptr) { // it drains here too: its windows join its own
        PatternRecords windows;
        windows.records = part.records;
        windows.headers = part.headers;
        windows.record_headers = part.record_headers;
        lines.push_back(what + ": " + restoreWindows(loop, *into, windows));
        continue;
      }
      if (served_active) {
        lines.push_back(what + ": NOT restored: the state of its " + keys +
                        " is the draining version's, and this server serves that version as the "
                        "active one (start it with the version it drains to)");
        continue;
      }
      std::string why_not;
      std::shared_ptr<Loaded> loaded =
          loadStoredArtifact(what, part.artifact_hash, artifact, why_not);
      if (!loaded) {
        lines.push_back(what + ": NOT restored: " + why_not + ": the state of its " + keys +
                        " is lost");
        continue;
      }
      auto served = std::make_unique<Served>();
      for (std::size_t i = 0; i < loaded->matchers.size(); ++i) {
        if (loaded->matchers[i] && loaded->names[i] == name) {
          served->matcher = std::move(loaded->matchers[i]);
          served->aggregate = loaded->aggregates[i];
          served->image = loaded->images[i];
          break;
        }
      }
      if (!served->matcher) {
        throw std::runtime_error("its artifact holds no pattern or aggregate " + name);
      }
      served->schema = loaded->artifact.schema;
      std::string restored;
      if (served->aggregate) {
        if (part.headers.empty()) {
          throw std::runtime_error("its key records come without the aggregate's header");
        }
        runtime::native::restoreAggregateRecords(
            *served->matcher, runtime::aggregate::latestSnapshotHeader(part.headers), part.records);
        runtime::native::ownWindows(*served->matcher, part.own_from, part.own_before);
        restored = keys + ", " + std::to_string(served->matcher->stats().windows) +
                   " open windows (it writes those that started before " +
                   runtime::formatRfc3339(part.own_before) + ")";
      } else {
        // A pattern: its runs back, then drained as the writer's was (no new run from here on;
        // the snapshot's draining flag is the writer's matcher header, not in the record).
        runtime::MatcherState empty;
        served->matcher->exportState(empty);
        served->matcher->restoreState(runtime::withKeys(empty, part.records, next_seq));
        served->matcher->drain();
        restored = keys + ", " + std::to_string(served->matcher->stats().live_runs) +
                   " partial matches (it starts no new one)";
      }
      served->name = name;
      served->version = loaded->artifact.version();
      served->hash = loaded->artifact.hash;
      served->loaded_at = now();
      served->draining = true;
      served->loaded = loaded;
      served->artifact_bytes = loaded->bytes;
      served->id = loop.operators().nextId();
      loop.operators().add(served->id, served->matcher.get());
      startSeries(*served);
      lines.push_back(
          what + ": served again, draining, from its artifact in the changelog topic: " + restored);
      served_.push_back(std::move(served));
      served_again = true;
    } catch (const std::exception &e) {
      throw std::runtime_error(
          std::string(into != nullptr && !into->aggregate ? "pattern " : "aggregate ") + what +
          ": " + e.what());
    }
  }
  // The active version, without a share of its own yet (a fresh start), owns the rest.
  Served *now_active = active(name);
  if (served_again && now_active != nullptr && now_active->aggregate &&
      (in.own_from != INT64_MIN || in.own_before != INT64_MAX) &&
      runtime::native::ownedWindows(*now_active->matcher) ==
          std::pair<std::int64_t, std::int64_t>(INT64_MIN, INT64_MAX)) {
    runtime::native::ownWindows(*now_active->matcher, in.own_from, in.own_before);
  }
}

std::vector<std::string>
ServeRuntime::restorePartitions(runtime::RunLoop &loop,
                                const std::map<std::string, PatternRecords> &records,
                                const ArtifactOf &artifact) {
  std::vector<std::string> lines;
  std::uint64_t next_seq = loop.ingest().nextSeq();
  // Draining versions first (format 5; patterns' and aggregates'): by name and version, never
  // into the active one of their name.
  for (const auto &[name, in] : records) {
    if (!in.draining.empty()) {
      restoreDraining(loop, name, in, artifact, next_seq, lines);
    }
  }
  for (const auto &served : served_) {
    auto it = records.find(served->name);
    if (it == records.end() || it->second.records.empty() || served->draining ||
        !served->in_operators) {
      continue;
    }
    if (served->aggregate) {
      try {
        lines.push_back(served->name + " " + served->version + ": " +
                        restoreWindows(loop, *served, it->second));
      } catch (const std::exception &e) {
        throw std::runtime_error("aggregate " + served->name + " " + served->version + ": " +
                                 e.what());
      }
      continue;
    }
    lines.push_back(served->name + " " + served->version + ": " +
                    restoreKeys(loop, *served, it->second.records, next_seq));
  }
  for (const auto &[name, in] : records) {
    bool served_here = false;
    for (const auto &served : served_) {
      served_here = served_here || (served->name == name && !served->draining);
    }
    if (!served_here && !in.records.empty()) {
      lines.push_back(name + ": not served here: its " + std::to_string(in.records.size()) +
                      " keys are not restored");
    }
  }
  loop.ingest().raiseNextSeq(next_seq);
  return lines;
}

std::uint64_t ServeRuntime::dropKeys(runtime::RunLoop &loop, const runtime::KeyFilter &drop) {
  std::uint64_t dropped = 0;
  for (const auto &served : served_) {
    if (!served->in_operators) {
      continue;
    }
    if (served->aggregate) {
      runtime::MatcherChanges current;
      runtime::native::exportAggregateRecords(*served->matcher, current);
      std::vector<std::string_view> rest;
      for (const auto &[key, record] : current.put) {
        if (!drop(key)) {
          rest.push_back(record);
        }
      }
      if (rest.size() == current.put.size()) {
        continue;
      }
      dropped += current.put.size() - rest.size();
      try {
        replaceWindows(loop, *served, current.header, rest);
      } catch (const std::exception &e) {
        throw std::runtime_error("aggregate " + served->name + " " + served->version + ": " +
                                 e.what());
      }
      continue;
    }
    runtime::MatcherState current;
    served->matcher->exportState(current);
    runtime::MatcherState rest = runtime::withoutKeys(current, drop);
    if (rest.keys.size() == current.keys.size()) {
      continue; // none of its keys go
    }
    dropped += current.keys.size() - rest.keys.size();
    try {
      replaceState(loop, *served, rest);
    } catch (const std::exception &e) {
      throw std::runtime_error("pattern " + served->name + " " + served->version + ": " + e.what());
    }
  }
  return dropped;
}

void ServeRuntime::patternKeys(const runtime::Event &event,
                               std::vector<std::pair<std::string, std::string>> &out) const {
  for (const auto &served : served_) {
    if (!served->in_operators || served->draining) {
      continue;
    }
    if (served->aggregate) { // an aggregate's key: its `partition by` fields of its step's event
      const runtime::native::AggregateImage &agg = *served->aggregate;
      if (event.type == agg.event_type && !agg.key_fields.empty()) {
        std::string key;
        runtime::native::appendKeyFields(key, *served->schema, event, agg.key_fields);
        out.emplace_back(served->name, std::move(key));
      }
      continue;
    }
    if (!served->image || !served->image->keyed) {
      continue;
    }
    const runtime::native::PatternImage &image = *served->image;
    if (event.type >= image.key_fields.size() || image.key_fields[event.type].empty()) {
      continue; // its stream does not read this type
    }
    std::string key;
    runtime::native::appendKeyJson(key, *served->schema, image, event);
    out.emplace_back(served->name, std::move(key));
  }
}

std::vector<std::string>
ServeRuntime::keyConflictsWith(const std::vector<const Loaded *> &adding) const {
  if (options_.one_key_per_event.empty()) {
    return {};
  }
  std::set<std::string> replaced;
  for (const Loaded *loaded : adding) {
    replaced.insert(loaded->names.begin(), loaded->names.end());
  }
  std::vector<OperatorKeys> operators;
  for (const auto &served : served_) {
    if (!served->in_operators || served->draining || replaced.count(served->name) != 0) {
      continue;
    }
    if (served->aggregate) {
      operators.push_back(
          service::aggregateKeys(served->name, *served->schema, *served->aggregate));
    } else if (served->image) {
      operators.push_back(service::patternKeys(served->name, *served->schema, *served->image));
    }
  }
  for (const Loaded *loaded : adding) {
    const runtime::Schema &schema = *loaded->artifact.schema;
    for (std::size_t i = 0; i < loaded->names.size(); ++i) {
      if (loaded->aggregates[i]) {
        operators.push_back(
            service::aggregateKeys(loaded->names[i], schema, *loaded->aggregates[i]));
      } else if (loaded->images[i]) {
        operators.push_back(service::patternKeys(loaded->names[i], schema, *loaded->images[i]));
      }
    }
  }
  return keyConflicts(operators);
}

std::vector<std::string> ServeRuntime::keyConflictsAtStart() const {
  std::vector<const Loaded *> adding;
  for (const auto &loaded : at_start_) {
    adding.push_back(loaded.get());
  }
  return keyConflictsWith(adding);
}

} // namespace cep::service
