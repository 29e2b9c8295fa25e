#include "runtime/io/rejects.hpp"

#include "runtime/io/json_writer.hpp"

namespace cep::runtime {

Rejects::Rejects(std::vector<std::string> input_names, Statistics &stats, RejectOptions options)
    : names_(std::move(input_names)), stats_(&stats), options_(options) {
  if (stats_->inputs.size() < names_.size()) {
    stats_->inputs.resize(names_.size());
  }
}

void Rejects::reject(std::uint32_t input, std::uint64_t line, std::string_view reason,
                     std::string_view record) {
  std::uint64_t count = ++stats_->inputs[input].rejected;
  failed_ = true;
  if (options_.report != nullptr && count <= options_.report_limit) {
    buffer_.clear();
    buffer_ += names_[input];
    buffer_ += ':';
    appendJsonInt(buffer_, static_cast<std::int64_t>(line));
    buffer_ += ": rejected: ";
    buffer_ += reason;
    buffer_ += '\n';
    options_.report->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  }
  if (options_.dead_letter != nullptr) {
    buffer_.clear();
    JsonWriter json(buffer_);
    json.beginObject();
    json.key("input");
    json.writeString(names_[input]);
    json.key("line");
    json.writeInt(static_cast<std::int64_t>(line));
    json.key("reason");
    json.writeString(reason);
    json.key("record");
    json.writeString(record);
    json.endObject();
    json.endLine();
    options_.dead_letter->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  }
}

void Rejects::late(std::uint32_t input, std::uint64_t line, std::string_view record) {
  ++stats_->inputs[input].late;
  if (options_.late_output != nullptr) {
    options_.late_output->write(record.data(), static_cast<std::streamsize>(record.size()));
    options_.late_output->put('\n');
  }
}

void Rejects::finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  if (options_.report == nullptr) {
    return;
  }
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const RecordCounts &counts = stats_->inputs[i];
    if (counts.rejected > options_.report_limit) {
      *options_.report << names_[i] << ": " << counts.rejected - options_.report_limit
                       << " more rejected records not shown (" << counts.rejected
                       << " rejected in total)\n";
    }
    if (counts.late > 0 && options_.late_output == nullptr) {
      *options_.report << names_[i] << ": " << counts.late
                       << (counts.late == 1 ? " late event" : " late events")
                       << " (at or before the watermark) not matched\n";
    }
  }
}

} // namespace cep::runtime
