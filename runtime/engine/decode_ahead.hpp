// `cep run --workers N` over files: the decoding of the records spread over N threads, ahead of
// the reading thread (docs/semantics.md §6, "Workers"; bench/RESULTS.md "Decoding on the workers").
//
// The reading thread copies the records it reads into a block (their text, line numbers, byte
// offsets, arrival numbers). A full block is split in N contiguous parts, each decoded by one
// thread with a JsonlDecoder of its own, while the reading thread ingests the block before it
// (engine/ingest: dead letters, late events, watermarks, in the records' order) and hands its
// events on (engine/driver, engine/worker_pool). Decoding is a function of a record's text and
// its context (input, line, arrival number, bound type), so what is decoded ahead is what the
// reading thread would have decoded; only where the context needs the clock (a type without a
// time field, processing time) is there no decoding ahead (Ingest::canDecodeAhead).
//
// Two blocks: one filling (and then ingested), one decoding.
//
//   DecodeAhead ahead(ingest, 2);
//   if (ahead.add(input, line, seq)) {       // the block is full
//     DecodeAhead::Block *ready = ahead.cycle(); // the older block, decoded (null: none yet)
//     for (std::size_t i = 0; ready && i < ready->size(); ++i) ingest.onDecoded(...);
//   }
//   ... ahead.drain() at the end: the blocks left, decoded, oldest first
//
// Event blocks: the threads allocate the events; the blocks freed on the reading thread (and
// handed back to it by the worker pool) go to the decoding threads with each job.
#pragma once

#include "runtime/event.hpp"
#include "runtime/io/jsonl_decoder.hpp"
#include "runtime/io/line_reader.hpp"

#include <cstdint>
#include <exception>
#include <memory>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

namespace cep::runtime {

class Ingest;

class DecodeAhead {
public:
  // One record of a block: where it came from, and (once decoded) what it decoded to.
  struct Record {
    std::uint32_t input = 0;
    std::size_t text_begin = 0; // into Block::text
    std::size_t text_size = 0;
    std::uint64_t number = 0, offset = 0, oversized = 0, seq = 0;
    std::int64_t source_time = kNoSourceTime;
    DecodeStatus status = DecodeStatus::Rejected; // not decoded when oversized
    EventRef event;
    std::int64_t watermark = 0;
    std::string reason; // Rejected
  };
  struct Block {
    std::string text; // the records' text, one after the other, kLinePadding bytes after
    std::vector<Record> records;
    std::size_t size() const { return records.size(); }
    // The record's line as LineReader handed it out (text, capacity, number, offset, ...).
    Line line(const Record &record) const;
    void clear();
    bool stale = false; // returned to the caller: cleared when it fills again
  };

  // `threads` >= 1 decoding threads, each with a decoder made by `ingest` (its schema and
  // options; Ingest::canDecodeAhead must hold). Starts the threads.
  // `block`: records per block (kBlockRecords; small only in tests).
  DecodeAhead(const Ingest &ingest, std::uint32_t threads, std::size_t block = kBlockRecords);
  // Waits for the block being decoded, stops the threads and joins them.
  ~DecodeAhead();
  DecodeAhead(const DecodeAhead &) = delete;
  DecodeAhead &operator=(const DecodeAhead &) = delete;

  // Copies `line` of `input` (arrival number `seq`) into the filling block. True when the block
  // is full: call cycle().
  bool add(std::uint32_t input, const Line &line, std::uint64_t seq);
  // The filling block goes to the threads; the one they decoded before it is returned, decoded
  // (null when there was none). It is valid until the next cycle() or drain(). Rethrows an
  // exception a thread threw.
  Block *cycle();
  // The blocks not returned yet, decoded, oldest first (at most two; empty ones left out).
  // Valid until the next add(). Rethrows an exception a thread threw.
  std::vector<Block *> drain();
  // Records added and not returned yet.
  std::size_t pending() const;

  std::uint32_t threads() const { return static_cast<std::uint32_t>(threads_.size()); }
  std::uint64_t blocks() const { return blocks_; }

  static constexpr std::size_t kBlockRecords = 2048;

private:
  struct Thread {
    std::thread thread;
    std::unique_ptr<JsonlDecoder> decoder;
    std::binary_semaphore start{0};
    std::size_t begin = 0, end = 0; // the records of the job
    EventBlocks blocks;             // free event blocks from the reading thread
    std::exception_ptr error;
  };

  void loop(Thread &thread);
  void decode(Thread &thread, Block &block);
  void wait();           // for the block being decoded
  void start(int index); // the threads decode block `index`

  const std::vector<std::int32_t> bound_types_; // per input (Ingest's)
  std::vector<std::unique_ptr<Thread>> threads_;
  std::counting_semaphore<> done_{0};
  Block blocks_store_[2];
  int filling_ = 0;
  int decoding_ = -1; // the index the threads decode (or have decoded and not returned); -1: none
  bool running_ = false; // the threads work on decoding_ (done_ not yet taken)
  bool stopping_ = false;
  const std::size_t block_records_;
  std::uint64_t blocks_ = 0;
  std::uint32_t next_gift_ = 0; // the thread that gets the reading thread's free blocks next
};

} // namespace cep::runtime
