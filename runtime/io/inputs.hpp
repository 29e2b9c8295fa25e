// Several JSON Lines inputs read together: `PATH[:Type]` each (`-` is stdin), one record at a
// time from each in turn (round-robin), so the interleaving, and with it every result, never
// depends on timing. Each input is its own watermark partition; an input that ends is finished.
// With pipes, FIFOs or followed files, nextArrived() takes records as they arrive instead,
// waiting on all the inputs at once.
#pragma once

#include "runtime/io/line_reader.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime {

struct InputSpec {
  std::string path;      // "-" is stdin
  std::string type_name; // empty: the record's "@type" (or the schema's only type) decides
};

// Splits `PATH[:Type]` at its last ':' when what follows is an identifier
// ([A-Za-z_][A-Za-z0-9_]*) and what precedes is not empty; otherwise all of it is the path.
InputSpec parseInputSpec(std::string_view argument);

struct InputRecord {
  std::uint32_t input = 0;
  Line line;
};

enum class InputStatus : std::uint8_t {
  Record,   // `record` holds the next line of input `record.input`
  Finished, // input `record.input` has ended (its watermark becomes +infinity)
  Error, // input `record.input` failed (error(record.input)); it is finished, no Finished follows
  End,   // every input has finished
  Interrupted, // a stop was asked (stop_signals.hpp); the inputs are not finished
  Idle, // nextArrived only: the wake fd is readable or the timeout has passed; nothing was read
};

class Inputs {
public:
  // Checks the specs (a bound type must exist in `schema`; stdin at most once). On failure
  // returns false with `error` set; nothing is read yet.
  // `max_record_bytes`: LineReader's limit (0: none). `follow`: regular files are followed at
  // their end (LineReader::setFollow) and never finish. A FIFO is opened when its writer opens
  // it (in --input order).
  bool open(const std::vector<InputSpec> &specs, const Schema &schema, std::string &error,
            std::size_t read_size = kDefaultReadSize, std::size_t max_record_bytes = 0,
            bool follow = false);

  InputStatus next(InputRecord &record) {
    if (inputs_.size() == 1 && remaining_ == 1) { // one input: no turns to take
      record.input = 0;
      ReadStatus status = inputs_[0].reader->next(record.line);
      if (status == ReadStatus::Line) {
        return InputStatus::Record;
      }
      if (status == ReadStatus::Interrupted) {
        return InputStatus::Interrupted;
      }
      return ended(inputs_[0], status);
    }
    return nextRoundRobin(record);
  }

  // Arrival order (`cep serve`, and `cep run` with a pipe, FIFO or terminal among several inputs,
  // or with --time processing or --follow): the next record of whichever input has one, taking
  // the inputs in turn among those that have; when none has, waits with poll() on all of them
  // at once, on `wake_fd` (-1: none) and the stop signal, for at most `timeout_ms()` ms (-1: no
  // limit; asked only when it is about to wait). Idle when `wake_fd` became readable (the
  // caller empties it) or the timeout passed first. Regular files never wait, so over regular
  // files alone this is the round-robin of next().
  InputStatus nextArrived(InputRecord &record, int wake_fd, const std::function<int()> &timeout_ms);
  // A pipe, FIFO or terminal among the inputs, or a followed file: nextArrived may wait.
  bool anyStream() const;
  bool follows() const { return follow_; }

  std::size_t size() const { return inputs_.size(); }
  const std::string &name(std::uint32_t input) const { return inputs_[input].reader->name(); }
  // Index of the type bound on the command line, -1 when none.
  std::int32_t boundType(std::uint32_t input) const { return inputs_[input].bound_type; }
  bool finished(std::uint32_t input) const { return inputs_[input].finished; }
  const std::string &error(std::uint32_t input) const { return inputs_[input].reader->error(); }
  std::vector<std::string> names() const;

private:
  struct Input {
    std::unique_ptr<LineReader> reader;
    std::int32_t bound_type = -1;
    bool finished = false;
  };
  InputStatus nextRoundRobin(InputRecord &record);
  InputStatus ended(Input &input, ReadStatus status); // End or Error

  std::vector<Input> inputs_;
  bool follow_ = false;
  std::size_t cursor_ = 0;    // the input whose turn it is
  std::size_t remaining_ = 0; // inputs not finished
};

// After every input has ended (`cep serve` keeps running): waits for `wake_fd` (-1: none), a
// stop signal or `timeout_ms` (-1: no limit). Idle or Interrupted.
InputStatus waitIdle(int wake_fd, int timeout_ms);

} // namespace cep::runtime
