#include "runtime/kafka/kafka_source.hpp"

#include "runtime/kafka/kafka_client.hpp"
#include "runtime/kafka/key_partition.hpp"
#include "runtime/metrics/registry.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <unistd.h>
#include <vector>

namespace cep::runtime::kafka {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t msSince(Clock::time_point then, Clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - then).count();
}

// How often lag gauges are refreshed and idle partitions looked for.
constexpr std::int64_t kHousekeepingMs = 50;
constexpr std::int64_t kLagEveryMs = 500;

} // namespace

struct KafkaSource::Impl {
  KafkaSourceOptions options;
  rd_kafka_t *rk = nullptr;
  rd_kafka_queue_t *queue = nullptr;
  int pipe_read = -1;
  int pipe_write = -1;
  std::string error;

  std::string cluster_id;

  struct Partition {
    bool assigned = false;
    bool resume_pending = false; // resume_at says where its first assignment starts
    bool idle = false;
    bool held_out = false;      // setHeldOut: matched by a catch-up of its own, not counted
    Clock::time_point active{}; // last message, or the assignment
    std::int64_t next_offset = -1;
    metrics::Gauge *lag = nullptr;
    metrics::Gauge *assigned_gauge = nullptr;
    metrics::Gauge *start_gauge = nullptr; // the offset it resumed at from a checkpoint
  };
  std::vector<Partition> partitions;
  std::uint64_t counts_version = 0;
  Clock::time_point last_housekeeping{};
  Clock::time_point last_lag{};
  bool brokers_down = false;
  std::uint64_t errors_logged = 0;
  metrics::Counter *consumed = nullptr;
  metrics::Counter *rebalances = nullptr;
  metrics::Counter *assigned_total = nullptr; // cooperative: partitions given and taken
  metrics::Counter *revoked_total = nullptr;
  bool closing = false; // the consumer is closing: its last revocation calls no hook
  metrics::Counter *mismatches = nullptr; // check_key_partition
  std::uint64_t mismatches_seen = 0;

  std::string buffer; // the value handed out, padded

  ~Impl() {
    if (rk != nullptr) {
      if (queue != nullptr) {
        rd_kafka_queue_io_event_enable(queue, -1, nullptr, 0);
      }
      closing = true; // the server has taken its last checkpoint (or is failing): no hook
      rd_kafka_consumer_close(rk);
      if (queue != nullptr) {
        rd_kafka_queue_destroy(queue);
      }
      rd_kafka_destroy(rk);
    }
    if (pipe_read >= 0) {
      ::close(pipe_read);
      ::close(pipe_write);
    }
  }

  std::string partitionList(const rd_kafka_topic_partition_list_t *list) const {
    std::string text;
    for (int i = 0; i < list->cnt; ++i) {
      if (std::string_view(list->elems[i].topic) != options.url.topic) {
        continue;
      }
      text += text.empty() ? "" : ",";
      text += std::to_string(list->elems[i].partition);
    }
    return text;
  }

  std::vector<std::int32_t> ofTopic(const rd_kafka_topic_partition_list_t *list) const {
    std::vector<std::int32_t> out;
    for (int i = 0; i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t &p = list->elems[i];
      if (std::string_view(p.topic) == options.url.topic && p.partition >= 0 &&
          static_cast<std::size_t>(p.partition) < partitions.size()) {
        out.push_back(p.partition);
      }
    }
    return out;
  }

  void setAssigned(const rd_kafka_topic_partition_list_t *list, bool assigned) {
    Clock::time_point now = Clock::now();
    for (int i = 0; i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t &p = list->elems[i];
      if (std::string_view(p.topic) != options.url.topic || p.partition < 0 ||
          static_cast<std::size_t>(p.partition) >= partitions.size()) {
        continue;
      }
      Partition &part = partitions[static_cast<std::size_t>(p.partition)];
      part.assigned = assigned;
      part.idle = false;
      part.active = now;
      if (!assigned) {
        part.next_offset = -1;
        part.held_out = false; // its catch-up went with it
      }
      if (part.assigned_gauge != nullptr) {
        part.assigned_gauge->set(assigned ? 1 : 0);
      }
    }
    ++counts_version;
  }

  void onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *list) {
    bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
    if (rebalances != nullptr) {
      rebalances->add();
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      std::vector<std::int32_t> mine = ofTopic(list);
      if (!mine.empty() || !cooperative) { // a cooperative round often gives nothing new
        logLine("group " + options.url.group + ": assigned partitions " + partitionList(list) +
                " of " + options.url.topic + (cooperative ? " (cooperative rebalance)" : ""));
      }
      if (assigned_total != nullptr) {
        assigned_total->add(mine.size());
      }
      if (options.hooks.assigned && !closing && !mine.empty()) {
        std::map<std::int32_t, std::int64_t> start = options.hooks.assigned(mine);
        for (int i = 0; i < list->cnt; ++i) {
          rd_kafka_topic_partition_t &p = list->elems[i];
          auto at = std::string_view(p.topic) == options.url.topic ? start.find(p.partition)
                                                                   : start.end();
          if (at != start.end() && at->second >= 0) {
            p.offset = at->second;
            partitions[static_cast<std::size_t>(p.partition)].next_offset = at->second;
          }
        }
      }
      startPositions(list);
      setAssigned(list, true);
      if (cooperative) {
        if (rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, list)) {
          logLine(std::string("incremental assign failed: ") + rd_kafka_error_string(e));
          rd_kafka_error_destroy(e);
        }
      } else {
        rd_kafka_assign(rk, list);
      }
    } else {
      bool lost = rd_kafka_assignment_lost(rk) != 0;
      logLine("group " + options.url.group + ": partitions " + partitionList(list) + " of " +
              options.url.topic + (lost ? " lost (given to another member already)" : " revoked"));
      std::vector<std::int32_t> mine = ofTopic(list);
      if (revoked_total != nullptr) {
        revoked_total->add(mine.size());
      }
      if (options.hooks.revoking && !closing && !mine.empty()) {
        options.hooks.revoking(mine, lost); // still assigned: their offsets are committed first
      }
      setAssigned(list, false);
      if (cooperative) {
        if (rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, list)) {
          rd_kafka_error_destroy(e);
        }
      } else {
        rd_kafka_assign(rk, nullptr);
      }
    }
  }

  // Where each newly assigned partition starts: the checkpoint's offset (resume_at) on its
  // first assignment, else the group's committed offset (librdkafka's default). One log line
  // says which and why, with the group's offset when it differs from the checkpoint's.
  void startPositions(rd_kafka_topic_partition_list_t *list) {
    bool any_resume = false;
    for (int i = 0; i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t &p = list->elems[i];
      if (std::string_view(p.topic) == options.url.topic && p.partition >= 0 &&
          static_cast<std::size_t>(p.partition) < partitions.size() &&
          partitions[static_cast<std::size_t>(p.partition)].resume_pending) {
        any_resume = true;
      }
    }
    if (!any_resume && options.resume_at.empty() && !options.assign_all) {
      return; // no checkpoint: the group's offsets, as without --state
    }
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(list);
    bool known = rd_kafka_committed(rk, committed, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR;
    std::string resumed, differ, from_group, from_start;
    auto add = [](std::string &to, const std::string &item) {
      to += (to.empty() ? "" : ", ") + item;
    };
    for (int i = 0; i < list->cnt; ++i) {
      rd_kafka_topic_partition_t &p = list->elems[i];
      if (std::string_view(p.topic) != options.url.topic || p.partition < 0 ||
          static_cast<std::size_t>(p.partition) >= partitions.size()) {
        continue;
      }
      Partition &part = partitions[static_cast<std::size_t>(p.partition)];
      std::int64_t group = known ? committed->elems[i].offset : -1;
      std::string name = std::to_string(p.partition);
      if (part.resume_pending) {
        part.resume_pending = false;
        p.offset = part.next_offset;
        add(resumed, name + "@" + std::to_string(part.next_offset));
        if (group != part.next_offset) {
          add(differ, name + ": " +
                          (!known      ? "unknown"
                           : group < 0 ? "none"
                                       : std::to_string(group)));
        }
        if (part.start_gauge != nullptr) {
          part.start_gauge->set(static_cast<double>(part.next_offset));
        }
      } else if (group >= 0) {
        add(from_group, name + "@" + std::to_string(group));
      } else {
        add(from_start, name);
      }
    }
    rd_kafka_topic_partition_list_destroy(committed);
    std::string text = options.url.topic + ":";
    if (!resumed.empty()) {
      text += " partitions resume at the checkpoint's offsets " + resumed;
      if (!differ.empty()) {
        text += " (the group's committed offsets differ, " + differ +
                ": the checkpoint's win, its state is the one restored)";
      }
      text += ";";
    }
    if (!from_group.empty()) {
      text += " partitions start at the group's committed offsets " + from_group +
              " (none in the checkpoint);";
    }
    if (!from_start.empty()) {
      text += " partitions " + from_start + " start at " + options.url.start +
              " (no offset in the checkpoint or the group);";
    }
    text.pop_back();
    logLine(text);
  }

  void onError(int err, const char *reason) {
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
      if (!brokers_down) {
        logLine("all brokers of " + options.url.bootstrap() +
                " are down: consumption waits for them (" + reason + ")");
      }
      brokers_down = true;
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT) {
      brokers_down = true; // "reachable again" once messages flow
    }
    if (++errors_logged <= 20 || errors_logged % 1000 == 0) {
      logLine(std::string("consumer: ") + reason + " (" +
              rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)) + ")");
    }
  }

  // Whether partition `p` is known to hold no message this consumer has not read: a fetch
  // response has told its high watermark (librdkafka's cache, no request), and the position is
  // not below it. A partition whose broker has not answered a fetch since it was assigned, or
  // whose messages wait in the fetch queue, is slow, not silent: it is not left out of the
  // watermark (under load its messages would otherwise arrive late behind the others).
  bool nothingToRead(std::size_t p) {
    std::int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(rk, options.url.topic.c_str(), static_cast<std::int32_t>(p),
                                       &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      return false;
    }
    const Partition &part = partitions[p];
    return part.next_offset < 0 || part.next_offset >= high;
  }

  void housekeeping(Clock::time_point now) {
    if (msSince(last_housekeeping, now) < kHousekeepingMs) {
      return;
    }
    last_housekeeping = now;
    if (options.idle_timeout_ms > 0) {
      for (std::size_t p = 0; p < partitions.size(); ++p) {
        Partition &part = partitions[p];
        if (part.assigned && !part.idle && msSince(part.active, now) >= options.idle_timeout_ms &&
            nothingToRead(p)) {
          part.idle = true;
          ++counts_version;
          logLine(options.url.topic + "[" + std::to_string(p) + "] silent for " +
                  std::to_string(options.idle_timeout_ms) +
                  " ms: left out of the watermark until it has messages again");
        }
      }
    }
    if (options.registry != nullptr && msSince(last_lag, now) >= kLagEveryMs) {
      last_lag = now;
      for (std::size_t p = 0; p < partitions.size(); ++p) {
        Partition &part = partitions[p];
        if (!part.assigned) {
          part.lag->set(0);
          continue;
        }
        std::int64_t low = -1, high = -1;
        if (rd_kafka_get_watermark_offsets(rk, options.url.topic.c_str(),
                                           static_cast<std::int32_t>(p), &low,
                                           &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            high < 0) {
          continue;
        }
        std::int64_t from =
            part.next_offset >= 0 ? part.next_offset : std::max<std::int64_t>(low, 0);
        part.lag->set(static_cast<double>(std::max<std::int64_t>(high - from, 0)));
      }
    }
  }
};

namespace {

void rebalanceCallback(rd_kafka_t *, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t *partitions, void *opaque) {
  static_cast<KafkaSource::Impl *>(opaque)->onRebalance(err, partitions);
}

void errorCallback(rd_kafka_t *, int err, const char *reason, void *opaque) {
  static_cast<KafkaSource::Impl *>(opaque)->onError(err, reason);
}

} // namespace

KafkaSource::KafkaSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaSource::~KafkaSource() = default;

std::unique_ptr<KafkaSource> KafkaSource::open(const KafkaSourceOptions &options,
                                               std::string &error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const KafkaUrl &url = options.url;
  Settings defaults = {{"enable.partition.eof", "false"},
                       {"queued.max.messages.kbytes", "16384"},
                       {"client.id", "cep-serve"}};
  Settings fixed = {{"bootstrap.servers", url.bootstrap()},
                    {"group.id", url.group},
                    {"auto.offset.reset", url.start}};
  if (!options.commit_offsets) {
    fixed.emplace_back("enable.auto.commit", "false"); // the transactions commit them
  }
  if (options.cooperative) {
    // Incremental rebalances: a member gives up only the partitions that move, and keeps
    // matching the others meanwhile (KIP-429).
    fixed.emplace_back("partition.assignment.strategy", "cooperative-sticky");
  }
  rd_kafka_conf_t *conf = makeConf(defaults, options.config, fixed, error);
  if (conf == nullptr) {
    return nullptr;
  }
  rd_kafka_conf_set_opaque(conf, impl.get());
  rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback);
  rd_kafka_conf_set_error_cb(conf, errorCallback);
  impl->rk = newConsumer(conf, url.text, error);
  if (impl->rk == nullptr) {
    return nullptr;
  }
  rd_kafka_poll_set_consumer(impl->rk);

  // The topic's partitions, which also says the brokers answer.
  rd_kafka_topic_t *topic = rd_kafka_topic_new(impl->rk, url.topic.c_str(), nullptr);
  const rd_kafka_metadata_t *metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(impl->rk, 0, topic, &metadata, options.metadata_timeout_ms);
  rd_kafka_topic_destroy(topic);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = url.text + ": no answer from the brokers " + url.bootstrap() + " within " +
            std::to_string(options.metadata_timeout_ms) + " ms (" + rd_kafka_err2str(err) + ")";
    return nullptr;
  }
  int partition_count = 0;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (url.topic == metadata->topics[i].topic) {
      topic_err = metadata->topics[i].err;
      partition_count = metadata->topics[i].partition_cnt;
    }
  }
  int broker_count = metadata->broker_cnt;
  rd_kafka_metadata_destroy(metadata);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || partition_count <= 0) {
    error = url.text + ": topic \"" + url.topic + "\" is not on the brokers " + url.bootstrap() +
            " (" + rd_kafka_err2str(topic_err) + ")";
    return nullptr;
  }
  logLine("connected to " + url.bootstrap() + " (" + std::to_string(broker_count) +
          (broker_count == 1 ? " broker" : " brokers") + "); topic " + url.topic + " has " +
          std::to_string(partition_count) + (partition_count == 1 ? " partition" : " partitions") +
          (options.assign_all ? "; offsets of group " : "; joining group ") + url.group);
  impl->partitions.resize(static_cast<std::size_t>(partition_count));
  if (char *id = rd_kafka_clusterid(impl->rk, options.metadata_timeout_ms)) {
    impl->cluster_id = id;
    rd_kafka_mem_free(impl->rk, id);
  } else {
    logLine("the brokers " + url.bootstrap() + " did not tell their cluster id within " +
            std::to_string(options.metadata_timeout_ms) +
            " ms: a checkpoint of this run cannot be checked against the cluster it resumes on");
  }
  for (const auto &[partition, offset] : options.resume_at) {
    if (partition >= 0 && partition < partition_count) {
      Impl::Partition &part = impl->partitions[static_cast<std::size_t>(partition)];
      part.next_offset = offset;
      part.resume_pending = true;
    }
  }
  if (options.registry != nullptr) {
    metrics::Registry &r = *options.registry;
    impl->consumed = &r.counter("cep_kafka_messages_consumed_total",
                                "Messages taken from a Kafka topic.", {{"topic", url.topic}});
    if (options.check_key_partition) {
      impl->mismatches = &r.counter("cep_kafka_key_partition_mismatches_total",
                                    "Keyed messages in another partition than librdkafka's "
                                    "default partitioner gives their key.",
                                    {{"topic", url.topic}});
    }
    if (options.cooperative) {
      impl->assigned_total =
          &r.counter("cep_kafka_partitions_assigned_total",
                     "Partitions given to this process by its consumer group's rebalances.",
                     {{"topic", url.topic}});
      impl->revoked_total =
          &r.counter("cep_kafka_partitions_revoked_total",
                     "Partitions taken from this process by its consumer group's rebalances "
                     "(lost ones too).",
                     {{"topic", url.topic}});
    }
    impl->rebalances = &r.counter("cep_kafka_rebalances_total",
                                  "Partition assignments and revocations of a consumer group.",
                                  {{"topic", url.topic}});
    for (int p = 0; p < partition_count; ++p) {
      metrics::Labels labels = {{"topic", url.topic}, {"partition", std::to_string(p)}};
      impl->partitions[static_cast<std::size_t>(p)].lag =
          &r.gauge("cep_kafka_consumer_lag",
                   "Messages of an assigned partition not yet consumed (high watermark minus "
                   "the next offset).",
                   labels);
      impl->partitions[static_cast<std::size_t>(p)].assigned_gauge =
          &r.gauge("cep_kafka_partition_assigned",
                   "1 while a partition is assigned to this process.", labels);
      if (options.resume_at.count(p) != 0) {
        impl->partitions[static_cast<std::size_t>(p)].start_gauge =
            &r.gauge("cep_kafka_partition_restored_offset",
                     "The offset a partition resumed at from the checkpoint restored.", labels);
      }
    }
  }

  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    error = std::string("cannot make a pipe: ") + std::strerror(errno);
    return nullptr;
  }
  impl->pipe_read = fds[0];
  impl->pipe_write = fds[1];
  impl->queue = rd_kafka_queue_get_consumer(impl->rk);
  rd_kafka_queue_io_event_enable(impl->queue, impl->pipe_write, "1", 1);

  if (options.assign_all) {
    // Every partition, by this process (no group join, no rebalance): where each starts is
    // the checkpoint's offset, else the group's committed one, else `start`.
    rd_kafka_topic_partition_list_t *all = rd_kafka_topic_partition_list_new(partition_count);
    for (int p = 0; p < partition_count; ++p) {
      rd_kafka_topic_partition_list_add(all, url.topic.c_str(), p);
    }
    logLine("assigned partitions " + impl->partitionList(all) + " of " + url.topic +
            " (all of them, to this process, no group join; group " + url.group +
            " keeps the offsets)");
    impl->startPositions(all);
    impl->setAssigned(all, true);
    err = rd_kafka_assign(impl->rk, all);
    rd_kafka_topic_partition_list_destroy(all);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      error = url.text + ": cannot assign its partitions: " + rd_kafka_err2str(err);
      return nullptr;
    }
    return std::unique_ptr<KafkaSource>(new KafkaSource(std::move(impl)));
  }
  rd_kafka_topic_partition_list_t *subscription = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subscription, url.topic.c_str(), RD_KAFKA_PARTITION_UA);
  err = rd_kafka_subscribe(impl->rk, subscription);
  rd_kafka_topic_partition_list_destroy(subscription);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = url.text + ": cannot subscribe: " + rd_kafka_err2str(err);
    return nullptr;
  }
  return std::unique_ptr<KafkaSource>(new KafkaSource(std::move(impl)));
}

std::uint32_t KafkaSource::splits() const {
  return static_cast<std::uint32_t>(impl_->partitions.size());
}

std::string KafkaSource::splitName(std::uint32_t split) const {
  return impl_->options.url.topic + "[" + std::to_string(split) + "]";
}

std::optional<PartitionOrigin> KafkaSource::origin(std::uint32_t split) const {
  return PartitionOrigin{impl_->options.url.topic, static_cast<std::int32_t>(split)};
}

ReadStatus KafkaSource::next(std::uint32_t &split, Line &line) {
  Impl &impl = *impl_;
  char drain[64];
  while (::read(impl.pipe_read, drain, sizeof drain) > 0) {
  }
  Clock::time_point now = Clock::now();
  for (;;) {
    rd_kafka_message_t *message = rd_kafka_consumer_poll(impl.rk, 0);
    if (message == nullptr) {
      impl.housekeeping(now);
      return ReadStatus::Pending;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        impl.onError(message->err, rd_kafka_message_errstr(message));
      }
      rd_kafka_message_destroy(message);
      continue;
    }
    if (message->partition < 0 ||
        static_cast<std::size_t>(message->partition) >= impl.partitions.size()) {
      // A partition added to the topic after the start: not followed (docs/kafka.md).
      rd_kafka_message_destroy(message);
      continue;
    }
    if (impl.brokers_down) {
      impl.brokers_down = false;
      logLine("brokers of " + impl.options.url.bootstrap() + " answer again: messages flow");
    }
    split = static_cast<std::uint32_t>(message->partition);
    Impl::Partition &part = impl.partitions[split];
    part.active = now;
    part.next_offset = message->offset + 1;
    if (part.idle) {
      part.idle = false;
      ++impl.counts_version;
    }
    if (impl.options.check_key_partition && message->key != nullptr && message->key_len > 0) {
      std::string_view key(static_cast<const char *>(message->key), message->key_len);
      std::int32_t expected = keyPartition(key, static_cast<std::int32_t>(impl.partitions.size()),
                                           Partitioner::Consistent);
      if (expected != message->partition) {
        std::uint64_t n = ++impl.mismatches_seen;
        if (impl.mismatches != nullptr) {
          impl.mismatches->add();
        }
        if (n <= 10 || n % 1000 == 0) {
          logLine(impl.options.url.topic + "[" + std::to_string(message->partition) + "]@" +
                  std::to_string(message->offset) + ": message key \"" +
                  std::string(key.substr(0, 64)) + "\" is in partition " +
                  std::to_string(message->partition) +
                  ", librdkafka's default partitioner puts it in " + std::to_string(expected) +
                  ": its state goes with partition " + std::to_string(expected) +
                  " (docs/kafka.md \"A key's partition\"; " + std::to_string(n) + " so far)");
        }
      }
    }
    std::size_t size = message->len;
    std::size_t max = impl.options.max_record_bytes;
    std::size_t kept = max > 0 && size > max ? std::min(kOversizedPrefix, max) : size;
    impl.buffer.clear(); // a null value (a tombstone) is an empty record
    if (message->payload != nullptr) {
      impl.buffer.append(static_cast<const char *>(message->payload), kept);
    }
    impl.buffer.append(kLinePadding, '\0');
    line.text = std::string_view(impl.buffer.data(), kept);
    line.capacity = impl.buffer.size();
    line.number = static_cast<std::uint64_t>(message->offset);
    line.offset = static_cast<std::uint64_t>(message->offset);
    line.oversized = kept < size ? size : 0;
    rd_kafka_timestamp_type_t type;
    std::int64_t timestamp = rd_kafka_message_timestamp(message, &type);
    line.source_time = timestamp >= 0 ? timestamp : kNoSourceTime;
    if (impl.options.skip_message &&
        impl.options.skip_message(message->partition, message->offset, line)) {
      rd_kafka_message_destroy(message);
      if (impl.consumed != nullptr) {
        impl.consumed->add();
      }
      continue;
    }
    if (impl.options.on_keyed_message && message->key != nullptr && message->key_len > 0) {
      impl.options.on_keyed_message(
          message->partition, message->offset,
          std::string_view(static_cast<const char *>(message->key), message->key_len), line);
    }
    rd_kafka_message_destroy(message);
    if (impl.consumed != nullptr) {
      impl.consumed->add();
    }
    impl.housekeeping(now);
    return ReadStatus::Line;
  }
}

int KafkaSource::fd() const {
  return impl_->pipe_read;
}

int KafkaSource::wakeWithinMs() const {
  const Impl &impl = *impl_;
  int wait = impl.options.registry != nullptr ? static_cast<int>(kLagEveryMs) : -1;
  if (impl.options.idle_timeout_ms > 0) {
    Clock::time_point now = Clock::now();
    for (const Impl::Partition &part : impl.partitions) {
      if (part.assigned && !part.idle) {
        std::int64_t left = std::max<std::int64_t>(
            impl.options.idle_timeout_ms - msSince(part.active, now), kHousekeepingMs);
        wait = wait < 0 ? static_cast<int>(left) : std::min(wait, static_cast<int>(left));
      }
    }
  }
  return wait;
}

bool KafkaSource::counts(std::uint32_t split) const {
  const Impl::Partition &part = impl_->partitions[split];
  return part.assigned && !part.idle && !part.held_out;
}

void KafkaSource::setHeldOut(std::uint32_t split, bool held_out) {
  if (split < impl_->partitions.size() && impl_->partitions[split].held_out != held_out) {
    impl_->partitions[split].held_out = held_out;
    ++impl_->counts_version;
  }
}

bool KafkaSource::assigned(std::uint32_t split) const {
  return split < impl_->partitions.size() && impl_->partitions[split].assigned;
}

bool KafkaSource::idle(std::uint32_t split) const {
  return split < impl_->partitions.size() && impl_->partitions[split].assigned &&
         impl_->partitions[split].idle;
}

std::uint64_t KafkaSource::countsVersion() const {
  return impl_->counts_version;
}

const std::string &KafkaSource::error() const {
  return impl_->error;
}

const std::string &KafkaSource::topic() const {
  return impl_->options.url.topic;
}

const std::string &KafkaSource::group() const {
  return impl_->options.url.group;
}

const std::string &KafkaSource::clusterId() const {
  return impl_->cluster_id;
}

std::vector<std::pair<std::int32_t, std::int64_t>> KafkaSource::positions() const {
  std::vector<std::pair<std::int32_t, std::int64_t>> out;
  for (std::size_t p = 0; p < impl_->partitions.size(); ++p) {
    if (impl_->partitions[p].next_offset >= 0) {
      out.emplace_back(static_cast<std::int32_t>(p), impl_->partitions[p].next_offset);
    }
  }
  return out;
}

rd_kafka_t *consumerHandle(const KafkaSource &source) {
  return source.impl().rk;
}

bool readCommittedOffsets(const KafkaUrl &url, const KafkaConfig *config, std::uint32_t partitions,
                          std::vector<CommittedOffset> &offsets, std::string &error,
                          int timeout_ms) {
  Settings fixed = {{"bootstrap.servers", url.bootstrap()},
                    {"group.id", url.group},
                    {"enable.auto.commit", "false"}};
  rd_kafka_conf_t *conf = makeConf({{"client.id", "cep-serve"}}, config, fixed, error);
  if (conf == nullptr) {
    return false;
  }
  rd_kafka_t *rk = newConsumer(conf, url.text, error);
  if (rk == nullptr) {
    return false;
  }
  rd_kafka_topic_partition_list_t *list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions));
  for (std::uint32_t p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, url.topic.c_str(), static_cast<std::int32_t>(p));
  }
  rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, timeout_ms);
  bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (!ok) {
    error = url.text + ": cannot read the committed offsets of group " + url.group + " within " +
            std::to_string(timeout_ms) + " ms (" + rd_kafka_err2str(err) + ")";
  } else {
    offsets.clear();
    for (int i = 0; i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t &p = list->elems[i];
      CommittedOffset &o = offsets.emplace_back();
      o.partition = p.partition;
      o.offset = p.err == RD_KAFKA_RESP_ERR_NO_ERROR ? p.offset : -1;
      if (p.metadata != nullptr && p.metadata_size > 0) {
        o.metadata.assign(static_cast<const char *>(p.metadata), p.metadata_size);
      }
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return ok;
}

} // namespace cep::runtime::kafka
