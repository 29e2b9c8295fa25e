// The rules topic's changes and a partition's changelog record (docs/kafka.md "A partition
// taken over behind the member", "Rules topic"): a record holds the keys as its writer had
// them at its watermark, after the rule changes due up to there. A member that holds no
// partition yet (a first start, a restart from its --state folder: with --scale-out the
// folder's checkpoint is not restored, the rules topic is read whole and every change is
// pending) applies those changes to its served set before the record's keys go in
// (applyRulesBefore), so the keys meet the versions they were written under, and the changes
// go into rule_history_ for the catch-ups of partitions taken over behind them later.
#include "cli/serve_kafka.hpp"
#include "runtime/kafka/kafka_source.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>

namespace cep::cli {

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

} // namespace cep::cli
