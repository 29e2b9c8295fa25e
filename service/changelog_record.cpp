// CEPCHLOG: one input partition's state in the changelog topic (changelog_record.hpp).
#include "service/changelog_record.hpp"

#include "runtime/snapshot_codec.hpp"
#include "support/fnv1a.hpp"

#include <stdexcept>

namespace cep::service {

namespace {

constexpr std::size_t kChecksumBytes = 8;

[[noreturn]] void fail(const std::string &why) {
  throw std::runtime_error("bad changelog record: " + why);
}

} // namespace

std::uint64_t ChangelogRecord::keyRecords() const {
  std::uint64_t n = 0;
  for (const ChangelogPattern &p : patterns) {
    n += p.records.size();
  }
  return n;
}

std::string changelogKey(std::string_view topic, std::uint32_t partition) {
  return std::string(topic) + "/" + std::to_string(partition);
}

std::string changelogTopic(std::string_view group) {
  return std::string(group) + "-state";
}

std::string changelogArtifactKey(std::string_view hash) {
  return "@artifact/" + std::string(hash);
}

std::string artifactOfChangelogKey(std::string_view key) {
  constexpr std::string_view prefix = "@artifact/";
  return key.substr(0, prefix.size()) == prefix ? std::string(key.substr(prefix.size()))
                                                : std::string();
}

void encodeChangelogRecord(const ChangelogRecord &rec, std::string &out) {
  std::size_t begin = out.size();
  runtime::SnapshotWriter w(out);
  w.bytes(kChangelogMagic, sizeof kChangelogMagic);
  w.u32(kChangelogVersion);
  w.str(rec.topic);
  w.u32(rec.partition);
  w.u32(rec.partitions);
  w.str(rec.group);
  w.str(rec.cluster);
  w.str(rec.transaction);
  w.str(rec.transactional_id);
  w.i64(rec.taken_at);
  w.i64(rec.next_offset);
  w.i64(rec.watermark);
  w.i64(rec.read_to);
  w.u32(static_cast<std::uint32_t>(rec.input_watermarks.size()));
  for (std::size_t p = 0; p < rec.input_watermarks.size(); ++p) {
    w.i64(rec.input_watermarks[p]);
    w.u8(p < rec.input_idle.size() && rec.input_idle[p] != 0 ? 1 : 0);
  }
  w.u32(static_cast<std::uint32_t>(rec.patterns.size()));
  for (const ChangelogPattern &p : rec.patterns) {
    w.str(p.pattern);
    w.str(p.version);
    w.str(p.artifact_hash);
    w.blob(p.header);
    w.u8(p.draining ? 1 : 0);
    w.i64(p.own_from);
    w.i64(p.own_before);
    w.u64(p.records.size());
    for (const std::string &r : p.records) {
      w.blob(r);
    }
  }
  w.u64(fnv1a64(std::string_view(out).substr(begin)));
}

ChangelogRecord decodeChangelogRecord(std::string_view in) {
  if (in.size() < sizeof kChangelogMagic + 4 + kChecksumBytes) {
    fail("too short (" + std::to_string(in.size()) + " bytes)");
  }
  if (in.substr(0, sizeof kChangelogMagic) !=
      std::string_view(kChangelogMagic, sizeof kChangelogMagic)) {
    fail("not a changelog record");
  }
  std::string_view body = in.substr(0, in.size() - kChecksumBytes);
  runtime::SnapshotReader trailer(in.substr(body.size()), "changelog record");
  if (trailer.u64() != fnv1a64(body)) {
    fail("checksum mismatch (corrupted)");
  }
  runtime::SnapshotReader r(body, "changelog record");
  r.skip(sizeof kChangelogMagic);
  std::uint32_t version = r.u32();
  if (version < 1 || version > kChangelogVersion) {
    fail("format version " + std::to_string(version) + " (this build reads 1 to " +
         std::to_string(kChangelogVersion) + ")");
  }
  ChangelogRecord rec;
  rec.topic = std::string(r.str());
  rec.partition = r.u32();
  rec.partitions = r.u32();
  if (rec.partition >= rec.partitions) {
    fail("partition " + std::to_string(rec.partition) + " of a topic of " +
         std::to_string(rec.partitions) + " partitions");
  }
  rec.group = std::string(r.str());
  rec.cluster = std::string(r.str());
  rec.transaction = std::string(r.str());
  rec.transactional_id = std::string(r.str());
  rec.taken_at = r.i64();
  rec.next_offset = r.i64();
  rec.watermark = r.i64();
  rec.read_to = version >= 2 ? r.i64() : -1;
  if (version >= 4) {
    const std::uint64_t inputs = r.count(r.u32(), 8 + 1);
    for (std::uint64_t p = 0; p < inputs; ++p) {
      rec.input_watermarks.push_back(r.i64());
      rec.input_idle.push_back(r.flag("input partition idle") ? 1 : 0);
    }
  }
  std::uint64_t patterns = r.count(r.u32(), 4 + 4 + 4 + 8);
  rec.patterns.resize(static_cast<std::size_t>(patterns));
  for (ChangelogPattern &p : rec.patterns) {
    p.pattern = std::string(r.str());
    p.version = std::string(r.str());
    p.artifact_hash = std::string(r.str());
    if (version >= 3) {
      p.header = std::string(r.blob());
    }
    if (version >= 5) {
      p.draining = r.flag("draining");
      p.own_from = r.i64();
      p.own_before = r.i64();
      if (p.own_from >= p.own_before && p.draining) {
        fail(p.pattern + " " + p.version + " drains and owns no window ([" +
             std::to_string(p.own_from) + ", " + std::to_string(p.own_before) + "))");
      }
    }
    std::uint64_t records = r.count(8);
    p.records.reserve(static_cast<std::size_t>(records));
    for (std::uint64_t i = 0; i < records; ++i) {
      p.records.emplace_back(r.blob());
    }
  }
  if (!r.atEnd()) {
    fail("trailing bytes");
  }
  return rec;
}

std::map<std::string, PatternRecords>
recordsByPattern(const std::vector<ChangelogRecord> &records) {
  std::map<std::string, PatternRecords> out;
  for (const ChangelogRecord &rec : records) {
    for (const ChangelogPattern &p : rec.patterns) {
      PatternRecords &named = out[p.pattern];
      std::vector<std::string_view> *records = &named.records;
      std::vector<std::string_view> *headers = &named.headers;
      std::vector<std::string_view> *record_headers = &named.record_headers;
      if (p.draining) {
        PatternRecords::Draining &d = named.draining[p.version];
        d.artifact_hash = p.artifact_hash;
        d.own_from = p.own_from;
        d.own_before = p.own_before;
        records = &d.records;
        headers = &d.headers;
        record_headers = &d.record_headers;
      } else if (p.own_from != INT64_MIN || p.own_before != INT64_MAX) {
        named.own_from = p.own_from;
        named.own_before = p.own_before;
      }
      if (!p.header.empty()) {
        headers->push_back(p.header);
      }
      for (const std::string &r : p.records) {
        records->push_back(r);
        record_headers->push_back(p.header);
      }
    }
  }
  return out;
}

} // namespace cep::service
