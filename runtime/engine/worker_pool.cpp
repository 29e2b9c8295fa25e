#include "runtime/engine/worker_pool.hpp"

#include "runtime/engine/sharded_matcher.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace cep::runtime {

namespace {

// The decoder's layout of a string in the event block (io/jsonl_decoder.cpp).
std::size_t stringBytes(std::size_t length) {
  std::size_t bytes = offsetof(StringRef, data) + length;
  bytes = (bytes + alignof(StringRef) - 1) & ~(alignof(StringRef) - 1);
  return std::max(bytes, sizeof(StringRef));
}

bool isString(const EventSchema &type, std::uint32_t field) {
  return field < type.fields.size() && type.fields[field].kind == FieldKind::String;
}

void stamp(std::vector<MatchOutput> &outputs, std::size_t from, std::uint32_t id) {
  for (std::size_t i = from; i < outputs.size(); ++i) {
    outputs[i].operator_id = id;
  }
}

} // namespace

EventRef copyEvent(const Event &event, const EventSchema &type) {
  std::size_t extra = event.raw != nullptr ? event.raw_size : 0;
  for (std::uint32_t i = 0; i < event.field_count; ++i) {
    if (!event.isNull(i) && isString(type, i)) {
      extra += stringBytes(event.slots()[i].s->size);
    }
  }
  Event *copy = allocateEvent(event.type, event.field_count, extra);
  EventRef ref(copy);
  copy->time = event.time;
  copy->seq = event.seq;
  copy->nulls = event.nulls;
  copy->input = event.input;
  copy->line = event.line;
  char *cursor = extraBegin(copy);
  for (std::uint32_t i = 0; i < event.field_count; ++i) {
    if (!event.isNull(i) && isString(type, i)) {
      const StringRef *from = event.slots()[i].s;
      auto *to = reinterpret_cast<StringRef *>(cursor);
      to->size = from->size;
      std::memcpy(cursor + offsetof(StringRef, data), from->data, from->size);
      copy->slots()[i].s = to;
      cursor += stringBytes(from->size);
    } else {
      copy->slots()[i] = event.slots()[i];
    }
  }
  if (event.raw != nullptr) {
    std::memcpy(cursor, event.raw, event.raw_size);
    copy->raw = cursor;
    copy->raw_size = event.raw_size;
  }
  return ref;
}

std::uint32_t workerOf(std::uint64_t hash, std::uint32_t workers) {
  // splitmix64's finaliser
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  return static_cast<std::uint32_t>(hash % workers);
}

WorkerPool::WorkerPool(const Schema &schema, std::vector<std::vector<Matcher *>> sets,
                       OutputSink &out, const RunOptions &options)
    : schema_(schema), sets_(std::move(sets)),
      workers_count_(static_cast<std::uint32_t>(sets_.size())), out_(out),
      flush_each_step_(options.flush_each_step) {
  CEP_ASSERT(sets_.size() >= 2, "a worker pool of fewer than two workers");
  for (const auto &set : sets_) {
    CEP_ASSERT(set.size() == sets_[0].size(), "workers with different operators");
  }
  start();
  for (std::uint32_t w = 0; w < workers_count_; ++w) {
    for (std::uint32_t id = 0; id < sets_[w].size(); ++id) {
      workers_[w]->fixed.push_back({id, sets_[w][id]});
    }
  }
}

WorkerPool::WorkerPool(const Schema &schema, const OperatorSet &operators, std::uint32_t workers,
                       OutputSink &out, const RunOptions &options)
    : schema_(schema), operators_(&operators), workers_count_(workers), out_(out),
      flush_each_step_(options.flush_each_step) {
  CEP_ASSERT(workers >= 2 && workers <= 64, "a worker pool of fewer than two or over 64 workers");
  start();
}

void WorkerPool::start() {
  for (std::uint32_t w = 0; w < workers_count_; ++w) {
    workers_.push_back(std::make_unique<Worker>());
  }
  for (std::uint32_t w = 0; w < workers_count_; ++w) {
    workers_[w]->thread = std::thread([this, w] { loop(w); });
  }
}

Matcher *WorkerPool::matcherOf(std::uint32_t w, const OperatorSet::Entry &op) const {
  if (operators_ == nullptr) {
    CEP_ASSERT(op.id < sets_[w].size(), "operator id beyond the workers' operators");
    return sets_[w][op.id];
  }
  // Every served operator is sharded (checked when a batch takes the set: submit()).
  return static_cast<const ShardedMatcher *>(op.matcher)->shard(w);
}

WorkerPool::~WorkerPool() {
  if (running_ >= 0) {
    for (std::size_t w = 0; w < workers_.size(); ++w) {
      done_.acquire();
    }
  }
  stopping_ = true;
  for (auto &worker : workers_) {
    worker->start.release();
  }
  for (auto &worker : workers_) {
    worker->thread.join();
    for (Batch &batch : worker->batches) {
      giveEventPool(batch.freed); // a batch the run stopped before merging
    }
  }
}

void WorkerPool::loop(std::uint32_t w) {
  Worker &worker = *workers_[w];
  for (;;) {
    worker.start.acquire();
    if (stopping_) {
      return;
    }
    try {
      process(w, worker.batches[running_]);
    } catch (...) {
      worker.error = std::current_exception();
    }
    done_.release();
  }
}

void WorkerPool::process(std::uint32_t w, Batch &batch) {
  const std::vector<Op> &all = operators_ == nullptr ? workers_[w]->fixed : batch.all;
  std::vector<MatchOutput> &out = batch.outputs;
  for (Command &c : batch.commands) {
    std::size_t from = out.size();
    switch (c.kind) {
    case Kind::Event:
      for (std::uint32_t k = c.ops_begin; k < c.ops_begin + c.ops_count; ++k) {
        const Op &op = batch.ops[k];
        std::size_t first = out.size();
        op.matcher->onEvent(c.event, out);
        stamp(out, first, op.id);
      }
      c.event = EventRef(); // released here: this thread owns its count now
      break;
    case Kind::Advance:
    case Kind::Watermark:
      for (const Op &op : all) {
        std::size_t first = out.size();
        op.matcher->advanceTo(c.time, c.kind == Kind::Watermark, out); // no call when not due
        stamp(out, first, op.id);
      }
      break;
    case Kind::Finish:
      for (const Op &op : all) {
        std::size_t first = out.size();
        op.matcher->finish(out);
        stamp(out, first, op.id);
      }
      break;
    }
    if (out.size() > from) {
      std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(from), out.end(),
                       MatchOutput::before);
      batch.output_steps.resize(out.size(), c.step);
    }
  }
  batch.freed = takeEventPool();
}

bool WorkerPool::event(EventRef &&event, const std::vector<OperatorSet::Entry> &ops) {
  const std::uint32_t n = workers();
  route_.clear();
  std::uint32_t last = 0; // the highest worker that gets it: it takes the reader's reference
  std::uint64_t seen = 0; // bit w: worker w gets the event (at most 64 workers)
  for (const OperatorSet::Entry &op : ops) {
    std::uint32_t w = workerOf(op.matcher->routeHash(*event), n);
    route_.push_back(w);
    seen |= std::uint64_t{1} << w;
    last = std::max(last, w);
  }
  for (std::uint32_t w = 0; w < n; ++w) {
    if (!((seen >> w) & 1U)) {
      continue;
    }
    Batch &batch = workers_[w]->batches[filling_];
    Command c;
    c.step = step_;
    c.time = event->time;
    c.ops_begin = static_cast<std::uint32_t>(batch.ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (route_[i] == w) {
        batch.ops.push_back({ops[i].id, matcherOf(w, ops[i])});
      }
    }
    c.ops_count = static_cast<std::uint32_t>(batch.ops.size()) - c.ops_begin;
    // The others get their own block (reference counts are per thread).
    c.event = w == last ? std::move(event) : copyEvent(*event, schema_.types[event->type]);
    batch.commands.push_back(std::move(c));
  }
  ++step_;
  return step_ - batch_first_step_ < kBatchSteps || submit();
}

bool WorkerPool::broadcast(Kind kind, std::int64_t time) {
  for (auto &worker : workers_) {
    Command c;
    c.kind = kind;
    c.step = step_;
    c.time = time;
    worker->batches[filling_].commands.push_back(std::move(c));
  }
  ++step_;
  return step_ - batch_first_step_ < kBatchSteps || submit();
}

bool WorkerPool::advance(std::int64_t time, bool watermark) {
  return broadcast(watermark ? Kind::Watermark : Kind::Advance, time);
}

bool WorkerPool::finish(AtEnd at_end) {
  at_end_ = at_end;
  finish_step_ = step_;
  return broadcast(Kind::Finish, kEndOfTime);
}

bool WorkerPool::late(const EventRef &event, const std::vector<OperatorSet::Entry> &ops,
                      bool &taken) {
  taken = false;
  if (!sync()) {
    return false;
  }
  // The workers wait for their next batch: their matchers are this thread's until then.
  std::vector<MatchOutput> out;
  for (const OperatorSet::Entry &op : ops) {
    std::uint32_t w = workerOf(op.matcher->routeHash(*event), workers());
    EventRef copy = copyEvent(*event, schema_.types[event->type]);
    std::size_t first = out.size();
    taken = matcherOf(w, op)->onLateEvent(copy, out) || taken;
    stamp(out, first, op.id);
  }
  ++step_;
  batch_first_step_ = step_;
  std::stable_sort(out.begin(), out.end(), MatchOutput::before);
  for (const MatchOutput &o : out) {
    out_.writeLine(o.json);
  }
  if (flush_each_step_ && !out.empty()) {
    out_.flush();
  }
  return !out_.failed();
}

bool WorkerPool::submit() {
  if (!waitAndMerge()) {
    return false;
  }
  bool any = false;
  for (auto &worker : workers_) {
    any = any || !worker->batches[filling_].commands.empty();
  }
  batch_first_step_ = step_;
  if (!any) {
    return true;
  }
  if (operators_ != nullptr) {
    // The served set as it is now: it has not changed since the batch began (it changes only
    // while the pool is synced), and the workers read it while the loop may change it later.
    for (std::uint32_t w = 0; w < workers_count_; ++w) {
      std::vector<Op> &all = workers_[w]->batches[filling_].all;
      all.clear();
      for (const OperatorSet::Entry &op : operators_->entries()) {
        CEP_ASSERT(dynamic_cast<const ShardedMatcher *>(op.matcher) != nullptr &&
                       static_cast<const ShardedMatcher *>(op.matcher)->shardCount() ==
                           workers_count_,
                   "a served operator that is not sharded over the workers");
        all.push_back({op.id, matcherOf(w, op)});
      }
    }
  }
  running_ = filling_;
  filling_ ^= 1;
  ++batches_;
  for (auto &worker : workers_) {
    worker->start.release();
  }
  return true;
}

bool WorkerPool::waitAndMerge() {
  if (running_ < 0) {
    return !out_.failed();
  }
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    done_.acquire();
  }
  int index = running_;
  running_ = -1;
  for (auto &worker : workers_) {
    if (worker->error) {
      std::exception_ptr error = worker->error;
      worker->error = nullptr;
      for (auto &other : workers_) {
        other->batches[index].clear();
      }
      std::rethrow_exception(error);
    }
  }
  return mergeAndWrite(index);
}

bool WorkerPool::mergeAndWrite(int index) {
  const std::size_t n = workers_.size();
  std::vector<std::size_t> at(n, 0);
  bool wrote = false;
  for (;;) {
    std::size_t best = n;
    for (std::size_t w = 0; w < n; ++w) {
      const Batch &b = workers_[w]->batches[index];
      if (at[w] == b.outputs.size()) {
        continue;
      }
      if (best == n) {
        best = w;
        continue;
      }
      const Batch &bb = workers_[best]->batches[index];
      std::uint64_t step = b.output_steps[at[w]], best_step = bb.output_steps[at[best]];
      if (step < best_step ||
          (step == best_step && MatchOutput::before(b.outputs[at[w]], bb.outputs[at[best]]))) {
        best = w;
      }
    }
    if (best == n) {
      break;
    }
    Batch &b = workers_[best]->batches[index];
    MatchOutput &o = b.outputs[at[best]];
    if (b.output_steps[at[best]] == finish_step_) {
      if (at_end_ == AtEnd::Drop) {
        ++at_end_dropped_;
        ++at[best];
        continue;
      }
      CEP_ASSERT(!o.json.empty() && o.json.back() == '}', "an output record is one JSON object");
      o.json.insert(o.json.size() - 1, R"(,"@at_end":true)");
      ++at_end_fired_;
    }
    out_.writeLine(o.json);
    wrote = true;
    ++at[best];
  }
  for (auto &worker : workers_) {
    giveEventPool(worker->batches[index].freed);
    worker->batches[index].clear();
  }
  if (flush_each_step_ && wrote) {
    out_.flush();
  }
  return !out_.failed();
}

bool WorkerPool::sync() {
  return submit() && waitAndMerge();
}

MatcherStats WorkerPool::stats(std::size_t op) const {
  CEP_ASSERT(operators_ == nullptr, "per-operator counters of a serving pool");
  MatcherStats sum;
  for (const auto &set : sets_) {
    sum += set[op]->stats();
  }
  return sum;
}

std::int64_t WorkerPool::nextTimer() const {
  std::int64_t next = kEndOfTime;
  if (operators_ != nullptr) {
    for (const OperatorSet::Entry &op : operators_->entries()) {
      next = std::min(next, op.matcher->nextTimer()); // a ShardedMatcher's: over its shards
    }
    return next;
  }
  for (const auto &set : sets_) {
    for (const Matcher *m : set) {
      next = std::min(next, m->nextTimer());
    }
  }
  return next;
}

} // namespace cep::runtime
