#include "runtime/io/inputs.hpp"

#include "runtime/io/stop_signals.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <poll.h>

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

} // namespace

InputSpec parseInputSpec(std::string_view argument) {
  std::size_t colon = argument.rfind(':');
  if (colon != std::string_view::npos && colon > 0 && isIdentifier(argument.substr(colon + 1))) {
    return {std::string(argument.substr(0, colon)), std::string(argument.substr(colon + 1))};
  }
  return {std::string(argument), {}};
}

bool Inputs::open(const std::vector<InputSpec> &specs, const Schema &schema, std::string &error,
                  std::size_t read_size, std::size_t max_record_bytes, bool follow) {
  inputs_.clear();
  follow_ = follow;
  cursor_ = 0;
  bool stdin_seen = false;
  for (const InputSpec &spec : specs) {
    Input input;
    if (!spec.type_name.empty()) {
      input.bound_type = schema.typeIndex(spec.type_name);
      if (input.bound_type < 0) {
        error = "input \"" + spec.path + ":" + spec.type_name + "\": unknown event type \"" +
                spec.type_name + "\"";
        inputs_.clear();
        return false;
      }
    }
    if (spec.path == "-") {
      if (stdin_seen) {
        error = "standard input (\"-\") is given more than once";
        inputs_.clear();
        return false;
      }
      stdin_seen = true;
    }
    input.reader = std::make_unique<LineReader>(spec.path, read_size, max_record_bytes);
    input.reader->setFollow(follow);
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

std::vector<std::string> Inputs::names() const {
  std::vector<std::string> result;
  result.reserve(inputs_.size());
  for (const Input &input : inputs_) {
    result.push_back(input.reader->name());
  }
  return result;
}

} // namespace cep::runtime
