// Several JSON Lines inputs read together: `PATH[:Type]` each (`-` is stdin), one record at a
// time from each in turn (round-robin), so the interleaving, and with it every result, never
// depends on timing. Each input is its own watermark partition; an input that ends is finished.
// With pipes, FIFOs or followed files, nextArrived() takes records as they arrive instead,
// waiting on all the inputs at once.
//
// Positions (exactly-once recovery, issue #11): position(i) is where input i stands: the byte
// offset just after the last record read from it, that record's line number, and the file's
// identity (file_identity.hpp; computed when asked, not while reading). open() with `resume_at`
// starts an input at such a position: a regular file is checked to be the same file with the
// same bytes before the offset, then sought there; a pipe, FIFO or stdin cannot seek and is
// refused, unless the caller says its producer replays from that byte. Each refusal is one line:
//
//   cannot resume input "events.jsonl" at byte 4096 (line 57): it was replaced (device 2049
//     inode 1311 then, device 2049 inode 1377 now)
//   cannot resume input "events.jsonl" at byte 4096 (line 57): it was truncated (120 bytes now)
//   cannot resume input "events.jsonl" at byte 4096 (line 57): it changed (its first 4096 bytes
//     differ)
//   cannot resume input "<stdin>" at byte 4096 (line 57): standard input cannot seek (resume it
//     only from a producer that replays from that byte)
//
//   Inputs inputs;
//   std::vector<std::optional<InputPosition>> at{checkpoint.position_of_input_0};
//   if (!inputs.open(specs, schema, error, kDefaultReadSize, 0, false, at)) { ... refused ... }
//   ... read ...
//   InputPosition now = inputs.position(0); // record it with the checkpoint
#pragma once

#include "runtime/io/file_identity.hpp"
#include "runtime/io/line_reader.hpp"
#include "runtime/io/record_source.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

// Where an input stands: what a checkpoint records of it and a resumed run starts from.
struct InputPosition {
  std::uint64_t offset = 0; // just after the last record read (after its newline); 0: none read
  std::uint64_t line = 0;   // that record's line number (0: none read)
  FileIdentity identity;    // which file, and a fingerprint of the bytes before `offset`
};

// The name an input goes by in messages and snapshots: "<stdin>" for "-", else the path.
std::string inputName(const std::string &path);

// Checks `specs` as Inputs::open does before opening anything (a bound type must exist in
// `schema`; stdin at most once). False with `error` set; else `bound_types` (optional) receives
// each input's bound type index (-1: none).
bool checkInputSpecs(const std::vector<InputSpec> &specs, const Schema &schema, std::string &error,
                     std::vector<std::int32_t> *bound_types = nullptr);

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
  // `resume_at` (empty, or one per spec; nullopt: from the start): start each input there
  // (above). A regular file must be the one the position was taken of (FileIdentity, else the
  // refusal says why) and is sought to its offset, also with `follow`. A pipe, FIFO or stdin is
  // refused unless `streams_replay_from_offset` says its producer replays from the position's
  // offset: then reading starts there without a check (nothing can be checked). A position
  // taken of a stream resumes only a stream. Line numbers go on from the position's line.
  bool open(const std::vector<InputSpec> &specs, const Schema &schema, std::string &error,
            std::size_t read_size = kDefaultReadSize, std::size_t max_record_bytes = 0,
            bool follow = false, const std::vector<std::optional<InputPosition>> &resume_at = {},
            bool streams_replay_from_offset = false);

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
  // A pipe, FIFO or terminal among the inputs, a followed file or a source: nextArrived may wait.
  bool anyStream() const;
  // Bytes handed out so far over every file input (their readers' recordEnd(): a resumed input
  // counts from its start), for a progress line; sources (Kafka) count nothing.
  std::uint64_t bytesRead() const;

  // After open(): appends one input per split of `source` (record_source.hpp), read by
  // nextArrived only (never by next(), never finished), all bound to `bound_type` (-1: none).
  void addSource(std::unique_ptr<RecordSource> source, std::int32_t bound_type);
  bool hasSources() const { return !sources_.empty(); }
  // Whether `input` counts in the combined watermark now: a file always; a split as its source
  // says (RecordSource::counts).
  bool counts(std::uint32_t input) const;
  // Grows whenever counts() of some input changes.
  std::uint64_t countsVersion() const;
  // The source and split behind `input`; null for a file.
  const RecordSource *source(std::uint32_t input) const { return inputs_[input].source; }
  std::optional<PartitionOrigin> origin(std::uint32_t input) const {
    const Input &in = inputs_[input];
    return in.source != nullptr ? in.source->origin(in.split) : std::nullopt;
  }
  bool follows() const { return follow_; }

  std::size_t size() const { return inputs_.size(); }
  const std::string &name(std::uint32_t input) const { return inputs_[input].name; }
  // Index of the type bound on the command line, -1 when none.
  std::int32_t boundType(std::uint32_t input) const { return inputs_[input].bound_type; }
  bool finished(std::uint32_t input) const { return inputs_[input].finished; }
  const std::string &error(std::uint32_t input) const {
    const Input &in = inputs_[input];
    return in.source != nullptr ? in.source->error() : in.reader->error();
  }
  std::vector<std::string> names() const;

  // Where `input` stands now (above): offset and line of the last record read, and for a
  // regular file its identity at that offset (fstat and two pread of at most 4 KiB: call it at a
  // checkpoint, not per record). A stream's identity has seekable false; so has a regular
  // file's that can no longer be read up to the offset (it was truncated meanwhile).
  InputPosition position(std::uint32_t input) const;

  // A resumed run that replays an input from its start to skip what was consumed
  // (engine/run_cut): the next line of `input` alone, outside the turns of next(); End and
  // Error do not finish it (markFinished does).
  ReadStatus read(std::uint32_t input, Line &line) { return inputs_[input].reader->next(line); }
  // `input` had ended before (a resumed run): never read nor reported again.
  void markFinished(std::uint32_t input);
  // next()'s round-robin goes on with `input` (a resumed run: the turn its snapshot recorded).
  void setTurn(std::uint32_t input) { cursor_ = inputs_.empty() ? 0 : input % inputs_.size(); }

private:
  struct Input {
    std::unique_ptr<LineReader> reader; // null for a split of a source
    RecordSource *source = nullptr;     // owned by sources_
    std::uint32_t split = 0;
    std::string name;
    std::int32_t bound_type = -1;
    bool finished = false;
  };
  // One read of every source without waiting: Record, Pending (as ReadStatus) or an error.
  bool readSources(InputRecord &record, InputStatus &status);
  InputStatus nextRoundRobin(InputRecord &record);
  InputStatus ended(Input &input, ReadStatus status); // End or Error

  std::vector<Input> inputs_;
  bool follow_ = false;
  std::size_t cursor_ = 0;    // the input whose turn it is
  std::size_t remaining_ = 0; // inputs not finished
  std::vector<std::unique_ptr<RecordSource>> sources_;
  std::vector<std::uint32_t> source_base_; // the input index of each source's split 0
  bool sources_first_ = false;             // alternates: files and sources take turns first
};

// After every input has ended (`cep serve` keeps running): waits for `wake_fd` (-1: none), a
// stop signal or `timeout_ms` (-1: no limit). Idle or Interrupted.
InputStatus waitIdle(int wake_fd, int timeout_ms);

} // namespace cep::runtime
