// The matchers of a run as operators with stable ids. An id names one operator for the life of
// the run: output records sort by it (MatchOutput::operator_id, docs/semantics.md §6), and a
// replaced operator keeps it. `cep run` numbers its patterns 0, 1, ... in declaration order;
// `cep serve` gives an added pattern nextId() and a replacement the id of the one it replaces.
//
//   OperatorSet operators(schema.types.size());
//   operators.add(0, &first);                    // declaration order under `cep run`
//   operators.add(1, &second);
//   Matcher *old = operators.replace(1, &newer); // between two driver steps only
//   operators.remove(0);
//   for (const OperatorSet::Entry &op : operators.entries()) { ... } // in id order
//
// The set does not own the matchers. The per-type dispatch table (forType) is rebuilt on every
// change; changes are allowed only between two driver steps (asserted: the Driver marks its
// steps with StepScope).
#pragma once

#include "runtime/matcher.hpp"

#include <cstdint>
#include <vector>

namespace cep::runtime {

using OperatorId = std::uint32_t;

class OperatorSet {
public:
  struct Entry {
    OperatorId id = 0;
    Matcher *matcher = nullptr;
  };

  // `type_count`: the event types of the schema (indices of Matcher::eventTypes()).
  explicit OperatorSet(std::size_t type_count = 0) : by_type_(type_count) {}

  // Adds `matcher` under `id`, which must be new.
  void add(OperatorId id, Matcher *matcher);
  // Puts `matcher` in place of the operator `id` (which must exist); returns the old one.
  Matcher *replace(OperatorId id, Matcher *matcher);
  // Takes the operator `id` (which must exist) out; returns it.
  Matcher *remove(OperatorId id);
  // The operator `id`, null when none.
  Matcher *find(OperatorId id) const;
  // The schema grew (Ingest::extendSchema): `type_count` types now, at least as many as before.
  void setTypeCount(std::size_t type_count);

  // Every operator, in id order.
  const std::vector<Entry> &entries() const { return entries_; }
  // The operators whose stream contains event type `type`, in id order.
  const std::vector<Entry> &forType(std::uint32_t type) const { return by_type_[type]; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // One more than the largest id ever added (0 for none): the id of a new operator.
  OperatorId nextId() const { return next_id_; }
  // A restored run (`cep serve --state`) goes on numbering where it was: ids below `next` are
  // never given again. Never lowers nextId().
  void reserveIds(OperatorId next) { next_id_ = next > next_id_ ? next : next_id_; }

  // Marks a driver step: while one is alive, the set must not change.
  class StepScope {
  public:
    explicit StepScope(OperatorSet &set) : set_(set) { ++set_.steps_; }
    ~StepScope() { --set_.steps_; }
    StepScope(const StepScope &) = delete;
    StepScope &operator=(const StepScope &) = delete;

  private:
    OperatorSet &set_;
  };

private:
  void checkBetweenSteps() const;
  void rebuild(); // by_type_ from entries_
  std::vector<Entry>::iterator at(OperatorId id);

  std::vector<Entry> entries_;              // sorted by id
  std::vector<std::vector<Entry>> by_type_; // event type -> operators, in id order
  OperatorId next_id_ = 0;
  int steps_ = 0;
};

} // namespace cep::runtime
