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
    return !input.finished && (input.reader->isStream() || input.reader->follows());
  });
}

InputStatus Inputs::nextArrived(InputRecord &record, int wake_fd,
                                const std::function<int()> &timeout) {
  using Clock = std::chrono::steady_clock;
  int timeout_ms = -2; // not asked yet
  Clock::time_point deadline;
  std::vector<pollfd> fds;
  for (;;) {
    if (stopSignal() != 0) {
      return InputStatus::Interrupted;
    }
    if (remaining_ == 0) {
      return InputStatus::End;
    }
    // One turn over the inputs, from the one whose turn it is, without waiting.
    bool follows = false;
    for (std::size_t tried = 0; tried < inputs_.size() && remaining_ > 0; ++tried) {
      std::size_t index = cursor_;
      cursor_ = (cursor_ + 1) % inputs_.size();
      Input &input = inputs_[index];
      if (input.finished) {
        continue;
      }
      record.input = static_cast<std::uint32_t>(index);
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
    // Nothing has arrived: wait for an input, the wake fd, a stop or the timeout.
    fds.clear();
    for (const Input &input : inputs_) {
      if (!input.finished && input.reader->isStream()) {
        fds.push_back({input.reader->fd(), POLLIN, 0});
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

std::vector<std::string> Inputs::names() const {
  std::vector<std::string> result;
  result.reserve(inputs_.size());
  for (const Input &input : inputs_) {
    result.push_back(input.reader->name());
  }
  return result;
}

} // namespace cep::runtime
