// One key per event type (`cep serve --repartition`, docs/kafka.md "Repartition"): a
// repartition topic keys each event once, so the served patterns and aggregates must key each
// event type the same way. Checked before any event is read (at start, over the artifacts
// given and the restored ones) and by every deploy, from the operators' images.
//
//   OperatorKeys a = patternKeys("card_testing", schema, image); // Payment by (card)
//   OperatorKeys b = patternKeys("unpaid", schema, other);       // Payment by (order_id)
//   keyConflicts({a, b}) // {"pattern card_testing keys Payment by (card) and pattern unpaid
//                        //   keys it by (order_id)"}
//
// A pattern without `partition by` (one global partition) and an aggregate without one key
// nothing: they never conflict. LLVM-free.
#pragma once

#include "runtime/native/aggregate_image.hpp"
#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <string>
#include <utility>
#include <vector>

namespace cep::service {

struct OperatorKeys {
  std::string name;
  bool aggregate = false;
  // Each event type it keys, by name, with its key fields' names in order.
  std::vector<std::pair<std::string, std::vector<std::string>>> types;
};

OperatorKeys patternKeys(const std::string &name, const runtime::Schema &schema,
                         const runtime::native::PatternImage &image);
OperatorKeys aggregateKeys(const std::string &name, const runtime::Schema &schema,
                           const runtime::native::AggregateImage &image);

// One line per pair of operators that key one event type differently (the first operator
// keying the type against each later one that keys it otherwise), in the order given.
std::vector<std::string> keyConflicts(const std::vector<OperatorKeys> &operators);

} // namespace cep::service
