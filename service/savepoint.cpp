// CEPSAVEP: the savepoint file of `cep serve` (savepoint.hpp).
#include "service/savepoint.hpp"

#include "runtime/engine/run_snapshot.hpp"
#include "runtime/snapshot_codec.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace cep::service {

namespace {

constexpr std::size_t kChecksumBytes = 8;

[[noreturn]] void fail(const std::string &why) {
  throw std::runtime_error("bad savepoint: " + why);
}

// Version 1's body (everything between the version and the checksum).
void readVersion1(runtime::SnapshotReader &r, Savepoint &sp) {
  std::string_view meta = r.blob();
  try {
    sp.meta = decodeServeMeta(meta);
  } catch (const std::runtime_error &e) {
    fail(std::string("the meta record: ") + e.what());
  }
  std::uint64_t artifacts = r.count(r.u32(), 4 + 8);
  for (std::uint64_t i = 0; i < artifacts; ++i) {
    SavedArtifact &a = sp.artifacts.emplace_back();
    a.hash = std::string(r.str());
    a.bytes = std::string(r.blob());
    if (i > 0 && sp.artifacts[i - 1].hash >= a.hash) {
      fail("artifacts out of hash order (or one twice)");
    }
  }
  std::uint64_t states = r.count(r.u32(), 4 + 8);
  if (states != sp.meta.served.size()) {
    fail("state of " + std::to_string(states) + " pattern versions, the meta record serves " +
         std::to_string(sp.meta.served.size()));
  }
  for (std::uint64_t i = 0; i < states; ++i) {
    const ServedState &served = sp.meta.served[i];
    std::uint32_t id = r.u32();
    if (id != served.operator_id) {
      fail("state " + std::to_string(i + 1) + " is of operator " + std::to_string(id) +
           ", the meta record's pattern `" + served.pattern + "` is operator " +
           std::to_string(served.operator_id));
    }
    std::vector<std::string> &records = sp.records.emplace_back();
    std::uint64_t count = r.count(8);
    for (std::uint64_t k = 0; k < count; ++k) {
      records.emplace_back(r.blob());
    }
    if (sp.artifact(served.artifact_hash) == nullptr) {
      fail("the artifact " + served.artifact_hash + " of pattern `" + served.pattern + "` " +
           served.version + " is missing");
    }
  }
  if (!r.atEnd()) {
    fail("bytes after the last state");
  }
}

} // namespace

const SavedArtifact *Savepoint::artifact(std::string_view hash) const {
  auto it = std::lower_bound(artifacts.begin(), artifacts.end(), hash,
                             [](const SavedArtifact &a, std::string_view h) { return a.hash < h; });
  return it != artifacts.end() && it->hash == hash ? &*it : nullptr;
}

void encodeSavepoint(const Savepoint &sp, std::string &out) {
  std::size_t begin = out.size();
  runtime::SnapshotWriter w(out);
  w.bytes(kSavepointMagic, sizeof kSavepointMagic);
  w.u32(kSavepointVersion);
  std::string meta;
  encodeServeMeta(sp.meta, meta);
  w.blob(meta);
  w.u32(static_cast<std::uint32_t>(sp.artifacts.size()));
  for (const SavedArtifact &a : sp.artifacts) {
    w.str(a.hash);
    w.blob(a.bytes);
  }
  w.u32(static_cast<std::uint32_t>(sp.meta.served.size()));
  for (std::size_t i = 0; i < sp.meta.served.size(); ++i) {
    w.u32(sp.meta.served[i].operator_id);
    const std::vector<std::string> &records =
        i < sp.records.size() ? sp.records[i] : std::vector<std::string>{};
    w.u64(records.size());
    for (const std::string &record : records) {
      w.blob(record);
    }
  }
  w.u64(runtime::runSnapshotChecksum(std::string_view(out).substr(begin)));
}

Savepoint decodeSavepoint(std::string_view in) {
  if (in.size() < sizeof kSavepointMagic + 4 + kChecksumBytes) {
    fail("too short (" + std::to_string(in.size()) + " bytes)");
  }
  if (in.substr(0, sizeof kSavepointMagic) !=
      std::string_view(kSavepointMagic, sizeof kSavepointMagic)) {
    fail("not a savepoint (it does not start with CEPSAVEP)");
  }
  std::string_view body = in.substr(0, in.size() - kChecksumBytes);
  runtime::SnapshotReader trailer(in.substr(body.size()), "savepoint");
  if (trailer.u64() != runtime::runSnapshotChecksum(body)) {
    fail("checksum mismatch (corrupted or cut short)");
  }
  Savepoint sp;
  runtime::SnapshotReader r(body, "savepoint"); // its own errors say "bad savepoint: ..." too
  r.skip(sizeof kSavepointMagic);
  std::uint32_t version = r.u32();
  if (version < kSavepointOldestVersion || version > kSavepointVersion) {
    fail("format version " + std::to_string(version) + " (this build reads " +
         std::to_string(kSavepointOldestVersion) + " to " + std::to_string(kSavepointVersion) +
         ")");
  }
  // One reader per released version (only 1 so far); a later one adds its own, never changes it.
  readVersion1(r, sp);
  return sp;
}

} // namespace cep::service
