#include "service/rules_position.hpp"

#include "runtime/snapshot_codec.hpp"

#include <algorithm>

namespace cep::service {

namespace {
constexpr char kRulesMagic[8] = {'C', 'E', 'P', 'R', 'U', 'L', 'E', 'S'};
constexpr std::uint32_t kRulesVersion = 1;
} // namespace

std::int64_t RulesPosition::resumeAt(std::size_t p) const {
  if (p >= next.size()) {
    return 0;
  }
  std::int64_t from = next[p];
  if (p < pending.size() && !pending[p].empty()) {
    from = std::min(from, pending[p].front());
  }
  return from;
}

bool RulesPosition::skips(std::size_t p, std::int64_t offset) const {
  if (p >= next.size() || offset >= next[p]) {
    return false;
  }
  return p >= pending.size() || !std::binary_search(pending[p].begin(), pending[p].end(), offset);
}

void encodeRulesPosition(const RulesPosition &position, std::string &out) {
  runtime::SnapshotWriter w(out);
  w.bytes(kRulesMagic, sizeof kRulesMagic);
  w.u32(kRulesVersion);
  w.u32(static_cast<std::uint32_t>(position.next.size()));
  for (std::size_t p = 0; p < position.next.size(); ++p) {
    w.i64(position.next[p]);
    const std::vector<std::int64_t> none;
    const std::vector<std::int64_t> &pending =
        p < position.pending.size() ? position.pending[p] : none;
    w.u32(static_cast<std::uint32_t>(pending.size()));
    for (std::int64_t offset : pending) {
      w.i64(offset);
    }
  }
}

RulesPosition decodeRulesPosition(std::string_view in) {
  runtime::SnapshotReader r(in, "rules position");
  if (r.bytes(sizeof kRulesMagic) != std::string_view(kRulesMagic, sizeof kRulesMagic)) {
    r.fail("not a rules position");
  }
  if (std::uint32_t version = r.u32(); version != kRulesVersion) {
    r.fail("format version " + std::to_string(version) + " (this build reads " +
           std::to_string(kRulesVersion) + ")");
  }
  RulesPosition position;
  std::uint64_t partitions = r.count(r.u32(), 8 + 4);
  for (std::uint64_t p = 0; p < partitions; ++p) {
    position.next.push_back(r.i64());
    std::vector<std::int64_t> &pending = position.pending.emplace_back();
    std::uint64_t count = r.count(r.u32(), 8);
    for (std::uint64_t i = 0; i < count; ++i) {
      std::int64_t offset = r.i64();
      if (offset < 0 || offset >= position.next.back() ||
          (!pending.empty() && offset <= pending.back())) {
        r.fail("pending offset " + std::to_string(offset) + " of partition " + std::to_string(p) +
               " not before its next offset, or out of order");
      }
      pending.push_back(offset);
    }
  }
  if (!r.atEnd()) {
    r.fail("bytes after the last partition");
  }
  return position;
}

} // namespace cep::service
