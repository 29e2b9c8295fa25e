// One librdkafka producer shared by the Kafka outputs of `cep serve` (-o, --dead-letter,
// --late-output: KafkaSink::open with KafkaSinkOptions::producer), optionally TRANSACTIONAL:
// `cep serve --state` with a kafka:// output commits the records produced since the previous
// checkpoint together with the consumed offsets in one transaction per checkpoint
// (docs/kafka.md, "Exactly once"). A transaction has a label (the header `cep-txn` of each of
// its records, and the metadata `cep-txn:<label>` of the offsets it commits), so a reader and a
// restarted server can tell which transaction a record or a committed offset belongs to.
//
//   KafkaProducerOptions options;
//   options.bootstrap = url.bootstrap();
//   options.transactional_id = "cep-fraud-host1";   // empty: not transactional
//   auto producer = KafkaProducer::open(options, error);        // null: refused
//   producer->initTransactions(error);   // fences an earlier producer of the id: the broker
//                                        // aborts the transaction it left open
//   producer->begin("1733301234567-1", error);
//   ... sinks write through it ...
//   std::string why;
//   switch (producer->commit({source.get()}, why)) {   // offsets of each source, then commit
//   case TxnOutcome::Committed: producer->begin("1733301234567-2", error); break;
//   case TxnOutcome::Aborted:   ... rewind to the last checkpoint ...;  break;
//   case TxnOutcome::Fatal:     ... stop ...;                          break;
//   }
#pragma once

#include "runtime/kafka/kafka_config.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::metrics {
class Registry;
}

namespace cep::runtime::kafka {

class KafkaSource;

struct KafkaProducerOptions {
  std::string bootstrap;                 // bootstrap.servers
  const KafkaConfig *config = nullptr;   // --kafka-config; null: none
  std::string transactional_id;          // not empty: transactional (the file may override it)
  metrics::Registry *registry = nullptr; // cep_kafka_transactions_total; null: none
  int flush_timeout_ms = 10000;          // flush(): the longest wait for deliveries
  int transaction_timeout_ms = 60000;    // init, send offsets, commit, abort: the longest wait
};

enum class TxnOutcome {
  Committed, // the records and the offsets are committed
  Aborted,   // an abortable error: the transaction was aborted (rewind to the last checkpoint)
  Fatal,     // the producer cannot go on (fenced by another instance, ...): stop
};

class KafkaProducer {
public:
  // Makes the producer (idempotent; transactional with a transactional.id). Null with `error`
  // when librdkafka refuses the configuration.
  static std::shared_ptr<KafkaProducer> open(const KafkaProducerOptions &options,
                                             std::string &error);
  ~KafkaProducer(); // flush(); an open transaction is left to the broker, which aborts it
  KafkaProducer(const KafkaProducer &) = delete;
  KafkaProducer &operator=(const KafkaProducer &) = delete;

  bool transactional() const;
  // The transactional.id in effect (the file's when it sets one); empty when not transactional.
  const std::string &transactionalId() const;

  // Transactional only. Registers the transactional.id with its coordinator, fencing any
  // earlier producer of it: the broker aborts the transaction that one left open (or completes
  // it when its commit had begun). Waits at most transaction_timeout_ms. False with `error`.
  bool initTransactions(std::string &error);
  // Begins a transaction; its records carry the header cep-txn: `label`. False with `error`.
  bool begin(const std::string &label, std::string &error);
  // The open transaction's label; empty when none is open (or not transactional).
  const std::string &label() const;
  // Sends each source's next offsets (KafkaSource::positions, with the metadata
  // `cep-txn:<label>`) with its consumer group's metadata, then commits (a retriable failure of
  // the commit is tried 3 times). On any other error the transaction is aborted (Aborted), but
  // on a fatal one (fenced, unauthorised), or when the abort fails: Fatal. `error` says why.
  TxnOutcome commit(const std::vector<const KafkaSource *> &sources, std::string &error);
  // Aborts the open transaction (its records stay in the log, marked aborted). False with
  // `error` when the abort failed (the producer is then unusable).
  bool abort(std::string &error);
  // Waits at most flush_timeout_ms for every queued message; logs how many were not delivered.
  void flush();
  // One message of bytes to `topic` (partitioned by `key` with librdkafka's default partitioner)
  // in the open transaction, with the header cep-txn: <label>: what is not a record of an output,
  // as the changelog topic's records (service/changelog_record.hpp). Waits for room while the
  // queue is full (at most flush_timeout_ms). False with `error` when librdkafka refuses it; a
  // failed delivery makes the transaction's commit fail (Aborted).
  // An empty `key` is none (a null key); `partition` -1 lets the partitioner choose;
  // `timestamp` (epoch ms) 0 is the time of the call.
  //   producer->produce("fraud-state", "payments/2", record_bytes, error);
  bool produce(const std::string &topic, std::string_view key, std::string_view value,
               std::string &error, std::int32_t partition = -1, std::int64_t timestamp = 0);

  struct Impl;
  Impl &impl() { return *impl_; }

private:
  explicit KafkaProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The metadata a transaction commits with each offset, and the label back from it (empty when
// it is not cep's).
std::string transactionMetadata(const std::string &label);
std::string labelOfMetadata(const std::string &metadata);

} // namespace cep::runtime::kafka
