#include "runtime/io/inputs.hpp"

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
                  std::size_t read_size, std::size_t max_record_bytes) {
  inputs_.clear();
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

std::vector<std::string> Inputs::names() const {
  std::vector<std::string> result;
  result.reserve(inputs_.size());
  for (const Input &input : inputs_) {
    result.push_back(input.reader->name());
  }
  return result;
}

} // namespace cep::runtime
