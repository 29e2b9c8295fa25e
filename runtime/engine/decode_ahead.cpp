#include "runtime/engine/decode_ahead.hpp"

#include "runtime/engine/ingest.hpp"
#include "support/internal_error.hpp"

namespace cep::runtime {

Line DecodeAhead::Block::line(const Record &record) const {
  Line line;
  line.text = std::string_view(text.data() + record.text_begin, record.text_size);
  line.capacity = text.size() - record.text_begin; // the padding after the last record included
  line.number = record.number;
  line.offset = record.offset;
  line.oversized = record.oversized;
  line.source_time = record.source_time;
  return line;
}

void DecodeAhead::Block::clear() {
  stale = false;
  text.clear();
  records.clear(); // the events not handed on are released here (the reading thread's)
}

DecodeAhead::DecodeAhead(const Ingest &ingest, std::uint32_t threads, std::size_t block)
    : bound_types_(ingest.boundTypes()), block_records_(block) {
  CEP_ASSERT(block >= 1, "decoding blocks of no record");
  CEP_ASSERT(threads >= 1, "decoding ahead without threads");
  CEP_ASSERT(ingest.canDecodeAhead(), "decoding ahead where the context needs the clock");
  for (std::uint32_t t = 0; t < threads; ++t) {
    auto thread = std::make_unique<Thread>();
    thread->decoder = ingest.makeDecoder();
    threads_.push_back(std::move(thread));
  }
  for (auto &thread : threads_) {
    Thread *self = thread.get();
    thread->thread = std::thread([this, self] { loop(*self); });
  }
  for (Block &block : blocks_store_) {
    block.records.reserve(block_records_);
    block.text.reserve(block_records_ * 64);
  }
}

DecodeAhead::~DecodeAhead() {
  if (running_) {
    for (std::size_t t = 0; t < threads_.size(); ++t) {
      done_.acquire();
    }
    running_ = false;
  }
  stopping_ = true;
  for (auto &thread : threads_) {
    thread->start.release();
  }
  for (auto &thread : threads_) {
    thread->thread.join();
    giveEventPool(thread->blocks); // a job's gift the thread never took
  }
  // The events of blocks never returned are released here, on the reading thread; the threads'
  // own pools went with them.
}

void DecodeAhead::loop(Thread &thread) {
  for (;;) {
    thread.start.acquire();
    if (stopping_) {
      return;
    }
    try {
      giveEventPool(thread.blocks);
      decode(thread, blocks_store_[decoding_]);
    } catch (...) {
      thread.error = std::current_exception();
    }
    done_.release();
  }
}

void DecodeAhead::decode(Thread &thread, Block &block) {
  for (std::size_t i = thread.begin; i < thread.end; ++i) {
    Record &r = block.records[i];
    if (r.oversized > 0) {
      continue; // Ingest rejects it without decoding
    }
    RecordContext context;
    context.input = r.input;
    context.line = r.number;
    context.seq = r.seq;
    context.bound_type = bound_types_[r.input];
    Line line = block.line(r);
    DecodeResult result = thread.decoder->decode(line, context);
    r.status = result.status;
    switch (result.status) {
    case DecodeStatus::Event:
      r.event = std::move(result.event);
      break;
    case DecodeStatus::Watermark:
      r.watermark = result.watermark;
      break;
    case DecodeStatus::Rejected:
      r.reason.assign(result.reason);
      break;
    }
  }
}

bool DecodeAhead::add(std::uint32_t input, const Line &line, std::uint64_t seq) {
  Block &block = blocks_store_[filling_];
  if (block.stale) {
    block.clear();
  }
  Record &r = block.records.emplace_back();
  r.input = input;
  r.text_begin = block.text.size();
  r.text_size = line.text.size();
  r.number = line.number;
  r.offset = line.offset;
  r.oversized = line.oversized;
  r.seq = seq;
  r.source_time = line.source_time;
  block.text.append(line.text);
  block.text.push_back('\n');
  return block.records.size() >= block_records_;
}

std::size_t DecodeAhead::pending() const {
  const Block &filling = blocks_store_[filling_];
  std::size_t n = filling.stale ? 0 : filling.records.size();
  return decoding_ >= 0 ? n + blocks_store_[decoding_].records.size() : n;
}

void DecodeAhead::wait() {
  if (!running_) {
    return;
  }
  for (std::size_t t = 0; t < threads_.size(); ++t) {
    done_.acquire();
  }
  running_ = false;
  for (auto &thread : threads_) {
    if (thread->error) {
      std::exception_ptr error = thread->error;
      thread->error = nullptr;
      std::rethrow_exception(error);
    }
  }
}

void DecodeAhead::start(int index) {
  Block &block = blocks_store_[index];
  CEP_ASSERT(!block.stale && !block.records.empty(), "decoding a block twice or an empty one");
  block.text.append(kLinePadding, '\0'); // readable after the last record
  decoding_ = index;
  running_ = true;
  ++blocks_;
  const std::size_t n = block.records.size(), parts = threads_.size();
  // The reading thread's free event blocks (what the workers freed) to one thread a block.
  threads_[next_gift_]->blocks = takeEventPool();
  next_gift_ = (next_gift_ + 1) % static_cast<std::uint32_t>(parts);
  for (std::size_t t = 0; t < parts; ++t) {
    threads_[t]->begin = n * t / parts;
    threads_[t]->end = n * (t + 1) / parts;
    threads_[t]->start.release();
  }
}

DecodeAhead::Block *DecodeAhead::cycle() {
  wait();
  const int ready = decoding_;
  decoding_ = -1;
  start(filling_);
  if (ready < 0) {
    filling_ ^= 1; // the first block: nothing was decoded before it; the other one is empty
    return nullptr;
  }
  // The caller ingests `ready` before its next add(), which then fills it again.
  filling_ = ready;
  blocks_store_[ready].stale = true;
  return &blocks_store_[ready];
}

std::vector<DecodeAhead::Block *> DecodeAhead::drain() {
  std::vector<Block *> out;
  wait();
  if (decoding_ >= 0) {
    blocks_store_[decoding_].stale = true;
    out.push_back(&blocks_store_[decoding_]); // older than the filling one
    decoding_ = -1;
  }
  Block &filling = blocks_store_[filling_];
  if (!filling.stale && !filling.records.empty()) {
    start(filling_);
    wait();
    decoding_ = -1;
    filling.stale = true;
    out.push_back(&filling);
  }
  return out;
}

} // namespace cep::runtime
