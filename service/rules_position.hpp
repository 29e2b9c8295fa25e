// Where a server stands in its rules topic (`cep serve --rules-topic`, service/rules_topic.hpp):
// the "rules" section of a `--state` checkpoint's meta record (service/serve_checkpoint.hpp).
// Per partition: the next offset the event loop has not taken, and the offsets it has taken but
// not applied yet (pending until their effective time). A restart reads each partition again
// from its first pending offset (or its next one) and skips what is neither pending nor new.
//
//   RulesPosition position;
//   position.next = {7};          // partition 0: offsets 0..6 taken
//   position.pending = {{2, 4}};  // 2 and 4 wait for their time; the rest applied or rejected
//   std::string bytes;
//   encodeRulesPosition(position, bytes);
//   RulesPosition back = decodeRulesPosition(bytes);   // throws std::runtime_error if damaged
//   back.resumeAt(0) == 2; back.skips(0, 3) == true; back.skips(0, 4) == false;
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::service {

struct RulesPosition {
  std::vector<std::int64_t> next;                 // per partition: the next offset not taken
  std::vector<std::vector<std::int64_t>> pending; // per partition: taken, not applied (sorted)

  // Where partition `p` is read again from: its first pending offset, else its next one (0 for
  // a partition the position does not know).
  std::int64_t resumeAt(std::size_t p) const;
  // Whether the message at `offset` of partition `p` was dealt with already (applied or
  // rejected): taken (before `next`) and not pending.
  bool skips(std::size_t p, std::int64_t offset) const;
};

// "CEPRULES" u32 version (1), u32 partitions, per partition: i64 next, u32 count, i64 offsets
// (each below next, increasing).
void encodeRulesPosition(const RulesPosition &position, std::string &out);
// Throws std::runtime_error("bad rules position: <reason>").
RulesPosition decodeRulesPosition(std::string_view in);

} // namespace cep::service
