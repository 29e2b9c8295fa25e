#include "runtime/io/inputs.hpp"

#include "runtime/io/stop_signals.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <poll.h>
#include <sys/stat.h>

namespace cep::runtime {

namespace {

bool isIdentifier(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(text[0])) {
    return false;
  }
  for (char c : text.substr(1)) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) {
      return false;
    }
  }
  return true;
}

std::string quoted(const std::string &text) {
  return "\"" + text + "\"";
}

// Starts `reader` (not read yet) at `at`, or says why it cannot ("" when it did).
std::string resumeReader(LineReader &reader, const InputPosition &at, bool streams_replay) {
  std::string refused = "cannot resume input " + quoted(reader.name()) + " at byte " +
                        std::to_string(at.offset) + " (line " + std::to_string(at.line) + "): ";
  if (!reader.isOpen()) {
    return refused + (reader.error().empty() ? std::string("interrupted") : reader.error());
  }
  std::string error;
  if (!reader.seekable()) {
    if (!streams_replay) {
      std::string what = reader.path() == "-" ? "standard input" : "a pipe, FIFO or terminal";
      return refused + what +
             " cannot seek (resume it only from a producer that replays from that byte)";
    }
    if (!reader.resumeAt(at.offset, at.line, error)) {
      return refused + error;
    }
    return {};
  }
  if (!at.identity.seekable) {
    return refused + "its position was taken of a pipe, FIFO or standard input, not of a file";
  }
  if (std::string why = fileIdentityMismatch(reader.fd(), at.offset, at.identity); !why.empty()) {
    return refused + why;
  }
  if (!reader.resumeAt(at.offset, at.line, error)) {
    return refused + error;
  }
  return {};
}

// Whether opening `path` may block (a FIFO waits for its writer): refusing to resume one must
// not wait for that.
bool isFifo(const std::string &path) {
  struct stat info {};
  return path != "-" && ::stat(path.c_str(), &info) == 0 && S_ISFIFO(info.st_mode);
}

} // namespace

InputSpec parseInputSpec(std::string_view argument) {
  std::size_t colon = argument.rfind(':');
  if (colon != std::string_view::npos && colon > 0 && isIdentifier(argument.substr(colon + 1))) {
    return {std::string(argument.substr(0, colon)), std::string(argument.substr(colon + 1))};
  }
  return {std::string(argument), {}};
}

std::string inputName(const std::string &path) {
  return path == "-" ? std::string("<stdin>") : path;
}

bool checkInputSpecs(const std::vector<InputSpec> &specs, const Schema &schema, std::string &error,
                     std::vector<std::int32_t> *bound_types) {
  bool stdin_seen = false;
  std::vector<std::int32_t> types;
  for (const InputSpec &spec : specs) {
    std::int32_t type = -1;
    if (!spec.type_name.empty()) {
      type = schema.typeIndex(spec.type_name);
      if (type < 0) {
        error = "input \"" + spec.path + ":" + spec.type_name + "\": unknown event type \"" +
                spec.type_name + "\"";
        return false;
      }
    }
    if (spec.path == "-") {
      if (stdin_seen) {
        error = "standard input (\"-\") is given more than once";
        return false;
      }
      stdin_seen = true;
    }
    types.push_back(type);
  }
  if (bound_types != nullptr) {
    *bound_types = std::move(types);
  }
  return true;
}

bool Inputs::open(const std::vector<InputSpec> &specs, const Schema &schema, std::string &error,
                  std::size_t read_size, std::size_t max_record_bytes, bool follow,
                  const std::vector<std::optional<InputPosition>> &resume_at,
                  bool streams_replay_from_offset) {
  inputs_.clear();
  follow_ = follow;
  cursor_ = 0;
  CEP_ASSERT(resume_at.empty() || resume_at.size() == specs.size(),
             "one resume position (or none) per input");
  std::vector<std::int32_t> bound_types;
  if (!checkInputSpecs(specs, schema, error, &bound_types)) {
    return false;
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const InputSpec &spec = specs[i];
    const std::optional<InputPosition> *at = resume_at.empty() ? nullptr : &resume_at[i];
    Input input;
    input.bound_type = bound_types[i];
    if (at != nullptr && *at && !streams_replay_from_offset && isFifo(spec.path)) {
      error = "cannot resume input " + quoted(spec.path) + " at byte " +
              std::to_string((*at)->offset) + " (line " + std::to_string((*at)->line) +
              "): a pipe, FIFO or terminal cannot seek (resume it only from a producer that " +
              "replays from that byte)";
      inputs_.clear();
      return false;
    }
    input.reader = std::make_unique<LineReader>(spec.path, read_size, max_record_bytes);
    input.reader->setFollow(follow);
    input.name = input.reader->name();
    if (at != nullptr && *at) {
      if (std::string why = resumeReader(*input.reader, **at, streams_replay_from_offset);
          !why.empty()) {
        error = why;
        inputs_.clear();
        return false;
      }
    }
    inputs_.push_back(std::move(input));
  }
  remaining_ = inputs_.size();
  return true;
}

InputStatus Inputs::ended(Input &input, ReadStatus status) {
  input.finished = true;
  --remaining_;
  return status == ReadStatus::End ? InputStatus::Finished : InputStatus::Error;
}

InputStatus Inputs::nextRoundRobin(InputRecord &record) {
  CEP_ASSERT(sources_.empty(), "a source is read only by nextArrived");
  while (remaining_ > 0) {
    std::size_t index = cursor_;
    cursor_ = (cursor_ + 1) % inputs_.size();
    Input &input = inputs_[index];
    if (input.finished) {
      continue;
    }
    record.input = static_cast<std::uint32_t>(index);
    ReadStatus status = input.reader->next(record.line);
    if (status == ReadStatus::Line) {
      return InputStatus::Record;
    }
    if (status == ReadStatus::Interrupted) {
      return InputStatus::Interrupted;
    }
    return ended(input, status);
  }
  return InputStatus::End;
}

bool Inputs::anyStream() const {
  return std::any_of(inputs_.begin(), inputs_.end(), [](const Input &input) {
    return !input.finished &&
           (input.source != nullptr || input.reader->isStream() || input.reader->follows());
  });
}

void Inputs::addSource(std::unique_ptr<RecordSource> source, std::int32_t bound_type) {
  source_base_.push_back(static_cast<std::uint32_t>(inputs_.size()));
  for (std::uint32_t split = 0; split < source->splits(); ++split) {
    Input input;
    input.source = source.get();
    input.split = split;
    input.name = source->splitName(split);
    input.bound_type = bound_type;
    inputs_.push_back(std::move(input));
    ++remaining_;
  }
  sources_.push_back(std::move(source));
}

bool Inputs::counts(std::uint32_t input) const {
  const Input &in = inputs_[input];
  return in.source == nullptr || in.source->counts(in.split);
}

std::uint64_t Inputs::countsVersion() const {
  std::uint64_t version = 0;
  for (const auto &source : sources_) {
    version += source->countsVersion();
  }
  return version;
}

bool Inputs::readSources(InputRecord &record, InputStatus &status) {
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    RecordSource &source = *sources_[s];
    if (inputs_[source_base_[s]].finished) {
      continue;
    }
    std::uint32_t split = 0;
    record.line.source_time = kNoSourceTime;
    switch (source.next(split, record.line)) {
    case ReadStatus::Line:
      record.input = source_base_[s] + split;
      status = InputStatus::Record;
      return true;
    case ReadStatus::Interrupted:
      status = InputStatus::Interrupted;
      return true;
    case ReadStatus::Pending:
    case ReadStatus::End:
      continue;
    case ReadStatus::Error:
      // The whole source is finished: its first split reports the error.
      for (std::uint32_t i = 0; i < source.splits(); ++i) {
        Input &in = inputs_[source_base_[s] + i];
        if (!in.finished) {
          in.finished = true;
          --remaining_;
        }
      }
      record.input = source_base_[s];
      status = InputStatus::Error;
      return true;
    }
  }
  return false;
}

InputStatus Inputs::nextArrived(InputRecord &record, int wake_fd,
                                const std::function<int()> &timeout) {
  using Clock = std::chrono::steady_clock;
  int timeout_ms = -2; // not asked yet
  Clock::time_point deadline;
  std::vector<pollfd> fds;
  const std::uint64_t counts_version = sources_.empty() ? 0 : countsVersion();
  for (;;) {
    if (stopSignal() != 0) {
      return InputStatus::Interrupted;
    }
    if (remaining_ == 0) {
      return InputStatus::End;
    }
    // One turn over the inputs, from the one whose turn it is, without waiting; the sources
    // before or after the files, in turns.
    InputStatus source_status = InputStatus::Idle;
    sources_first_ = !sources_first_;
    if (sources_first_ && readSources(record, source_status)) {
      return source_status;
    }
    bool follows = false;
    for (std::size_t tried = 0; tried < inputs_.size() && remaining_ > 0; ++tried) {
      std::size_t index = cursor_;
      cursor_ = (cursor_ + 1) % inputs_.size();
      Input &input = inputs_[index];
      if (input.finished || input.source != nullptr) {
        continue;
      }
      record.input = static_cast<std::uint32_t>(index);
      record.line.source_time = kNoSourceTime;
      input.reader->setNonBlocking(true);
      ReadStatus status = input.reader->next(record.line);
      switch (status) {
      case ReadStatus::Line:
        return InputStatus::Record;
      case ReadStatus::Interrupted:
        return InputStatus::Interrupted;
      case ReadStatus::Pending:
        follows = follows || input.reader->follows();
        continue;
      case ReadStatus::End:
      case ReadStatus::Error:
        return ended(input, status);
      }
    }
    if (!sources_first_ && readSources(record, source_status)) {
      return source_status;
    }
    if (!sources_.empty() && countsVersion() != counts_version) {
      return InputStatus::Idle; // the caller recomputes the watermark
    }
    // Nothing has arrived: wait for an input, the wake fd, a stop or the timeout.
    fds.clear();
    int source_wait = -1;
    for (const Input &input : inputs_) {
      if (!input.finished && input.reader && input.reader->isStream()) {
        fds.push_back({input.reader->fd(), POLLIN, 0});
      }
    }
    for (std::size_t s = 0; s < sources_.size(); ++s) {
      if (inputs_[source_base_[s]].finished) {
        continue;
      }
      if (sources_[s]->fd() >= 0) {
        fds.push_back({sources_[s]->fd(), POLLIN, 0});
      }
      int within = sources_[s]->wakeWithinMs();
      if (within >= 0) {
        source_wait = source_wait < 0 ? within : std::min(source_wait, within);
      }
    }
    std::size_t wake_index = fds.size();
    fds.push_back({wake_fd, POLLIN, 0}); // ignored by poll() when -1
    fds.push_back({stopWakeFd(), POLLIN, 0});
    if (timeout_ms == -2) {
      timeout_ms = timeout ? std::max(timeout(), -1) : -1;
      deadline = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
    }
    int wait = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      wait = static_cast<int>(std::max<std::int64_t>(left.count(), 0));
    }
    if (follows) {
      wait = wait < 0 ? kFollowIntervalMs : std::min(wait, kFollowIntervalMs);
    }
    if (source_wait >= 0) {
      wait = wait < 0 ? source_wait : std::min(wait, source_wait);
    }
    int ready = ::poll(fds.data(), fds.size(), wait);
    CEP_ASSERT(ready >= 0 || errno == EINTR, "poll() on the inputs failed");
    if (wake_fd >= 0 && (fds[wake_index].revents & POLLIN) != 0) {
      return InputStatus::Idle;
    }
    if (timeout_ms >= 0 && Clock::now() >= deadline) {
      return InputStatus::Idle;
    }
  }
}

InputStatus waitIdle(int wake_fd, int timeout_ms) {
  for (;;) {
    if (stopSignal() != 0) {
      return InputStatus::Interrupted;
    }
    pollfd fds[2] = {{wake_fd, POLLIN, 0}, {stopWakeFd(), POLLIN, 0}};
    int ready = ::poll(fds, 2, timeout_ms);
    CEP_ASSERT(ready >= 0 || errno == EINTR, "poll() on the wake fd failed");
    if (ready == 0 || (wake_fd >= 0 && (fds[0].revents & POLLIN) != 0)) {
      return stopSignal() != 0 ? InputStatus::Interrupted : InputStatus::Idle;
    }
  }
}

InputPosition Inputs::position(std::uint32_t input) const {
  CEP_ASSERT(inputs_[input].reader != nullptr, "a split of a source has no file position");
  const LineReader &reader = *inputs_[input].reader;
  InputPosition position;
  position.offset = reader.recordEnd();
  position.line = reader.recordLine();
  if (reader.seekable()) {
    std::string error;
    if (!fileIdentityAt(reader.fd(), position.offset, position.identity, error)) {
      position.identity = FileIdentity{}; // not seekable: a resume refuses it
    }
  }
  return position;
}

void Inputs::markFinished(std::uint32_t input) {
  if (!inputs_[input].finished) {
    inputs_[input].finished = true;
    --remaining_;
  }
}

std::uint64_t Inputs::bytesRead() const {
  std::uint64_t bytes = 0;
  for (const Input &input : inputs_) {
    if (input.reader != nullptr) {
      bytes += input.reader->recordEnd();
    }
  }
  return bytes;
}

std::vector<std::string> Inputs::names() const {
  std::vector<std::string> result;
  result.reserve(inputs_.size());
  for (const Input &input : inputs_) {
    result.push_back(input.name);
  }
  return result;
}

} // namespace cep::runtime
