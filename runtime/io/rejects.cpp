#include "runtime/io/rejects.hpp"

#include "runtime/io/json_writer.hpp"
#include "runtime/io/utf8.hpp"
#include "runtime/time/time_format.hpp"

#include <algorithm>

namespace cep::runtime {

namespace {

// RFC 4648 base64 with padding.
std::string base64(std::string_view bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    auto b0 = static_cast<unsigned char>(bytes[i]);
    auto b1 = static_cast<unsigned char>(bytes[i + 1]);
    auto b2 = static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[b0 >> 2]);
    out.push_back(kAlphabet[((b0 & 3) << 4) | (b1 >> 4)]);
    out.push_back(kAlphabet[((b1 & 15) << 2) | (b2 >> 6)]);
    out.push_back(kAlphabet[b2 & 63]);
  }
  if (i < bytes.size()) {
    auto b0 = static_cast<unsigned char>(bytes[i]);
    bool two = i + 1 < bytes.size();
    auto b1 = two ? static_cast<unsigned char>(bytes[i + 1]) : 0U;
    out.push_back(kAlphabet[b0 >> 2]);
    out.push_back(kAlphabet[((b0 & 3) << 4) | (b1 >> 4)]);
    out.push_back(two ? kAlphabet[(b1 & 15) << 2] : '=');
    out.push_back('=');
  }
  return out;
}

// The bytes at the end of `text` that are the start of one UTF-8 character cut short (a lead
// byte and fewer continuation bytes than it announces), 0 when there are none.
std::size_t cutCharacter(std::string_view text) {
  for (std::size_t tail = 1; tail <= 3 && tail <= text.size(); ++tail) {
    auto c = static_cast<unsigned char>(text[text.size() - tail]);
    if ((c & 0xC0) == 0x80) {
      continue; // a continuation byte: look further back
    }
    std::size_t need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    return need > tail ? tail : 0;
  }
  return 0;
}

// The smallest --max-delay that keeps an event `behind` ms at or before a watermark of
// max time - `delay` - 1 (delay + behind + 1), rounded up in the largest unit of which it is at
// least 10 (so at most 10% more: `42m`, `62m`, not `2h`; `5301ms`).
std::string delayHint(std::int64_t delay, std::int64_t behind) {
  std::int64_t need = delay + behind + 1;
  static const struct {
    std::int64_t ms;
    const char *unit;
  } kUnits[] = {{kMillisPerDay, "d"},
                {kMillisPerHour, "h"},
                {kMillisPerMinute, "m"},
                {kMillisPerSecond, "s"}};
  for (const auto &u : kUnits) {
    if (need >= 10 * u.ms) {
      return std::to_string((need + u.ms - 1) / u.ms) + u.unit;
    }
  }
  return std::to_string(need) + "ms";
}

} // namespace

std::string lateSummary(std::string_view input, const RecordCounts &counts,
                        std::int64_t max_delay_ms, std::int64_t behind_ms) {
  std::uint64_t events = counts.accepted + counts.late;
  // Tenths of a percent, rounded half up.
  std::uint64_t permille = events == 0 ? 0 : (counts.late * 2000 + events) / (2 * events);
  std::string out(input);
  out += ": ";
  bool warn = counts.late * 100 >= events; // 1% or more
  if (warn) {
    out += "warning: ";
  }
  out += std::to_string(counts.late) + " of " + std::to_string(events) +
         (events == 1 ? " event" : " events") + " (" + std::to_string(permille / 10) + "." +
         std::to_string(permille % 10) + "%) " + (counts.late == 1 ? "was" : "were") +
         " late (at or before the watermark) and not matched";
  if (max_delay_ms >= 0) {
    out += "; --max-delay " + delayHint(max_delay_ms, behind_ms) + " would have kept " +
           (counts.late == 1 ? "it" : "them all");
    if (warn) {
      out += ", and --order sort reads a whole file in event-time order";
    }
  }
  out += " (--late-output FILE keeps them)";
  return out;
}

Rejects::Rejects(std::vector<std::string> input_names, Statistics &stats, RejectOptions options)
    : names_(std::move(input_names)), stats_(&stats), options_(options) {
  if (stats_->inputs.size() < names_.size()) {
    stats_->inputs.resize(names_.size());
  }
}

void Rejects::setOrigin(std::uint32_t input, PartitionOrigin origin) {
  if (origins_.size() < names_.size()) {
    origins_.resize(names_.size());
  }
  origins_[input] = std::move(origin);
}

void Rejects::reject(std::uint32_t input, std::uint64_t line, std::string_view reason,
                     std::string_view record, std::uint64_t record_bytes) {
  std::uint64_t count = ++stats_->inputs[input].rejected;
  failed_ = true;
  if (options_.report != nullptr && count <= options_.report_limit) {
    buffer_.clear();
    buffer_ += names_[input];
    buffer_ += input < origins_.size() && origins_[input] ? '@' : ':';
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
    if (input < origins_.size() && origins_[input]) {
      json.key("topic");
      json.writeString(origins_[input]->topic);
      json.key("partition");
      json.writeInt(origins_[input]->partition);
      json.key("offset");
    } else {
      json.key("line");
    }
    json.writeInt(static_cast<std::int64_t>(line));
    json.key("reason");
    json.writeString(reason);
    if (record_bytes > 0) {
      record = record.substr(0, record.size() - cutCharacter(record));
    }
    if (utf8ValidPrefix(record) == record.size()) {
      json.key("record");
      json.writeString(record);
    } else {
      json.key("record_base64");
      json.writeString(base64(record));
    }
    if (record_bytes > 0) {
      json.key("record_bytes");
      json.writeInt(static_cast<std::int64_t>(record_bytes));
      json.key("truncated");
      json.writeBool(true);
    }
    json.endObject();
    json.endLine();
    options_.dead_letter->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  }
}

void Rejects::late(std::uint32_t input, std::uint64_t line, std::string_view record,
                   std::int64_t behind_ms) {
  ++stats_->inputs[input].late;
  if (late_behind_.size() <= input) {
    late_behind_.resize(input + 1, 0);
  }
  late_behind_[input] = std::max(late_behind_[input], behind_ms);
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
      std::int64_t behind = i < late_behind_.size() ? late_behind_[i] : 0;
      // An `@watermark` line (any input's: the watermark is their minimum) may have made them
      // late whatever the delay: then no hint.
      std::int64_t delay = stats_->total().watermarks == 0 ? options_.max_delay_ms : -1;
      *options_.report << lateSummary(names_[i], counts, delay, behind) << "\n";
    }
  }
}

} // namespace cep::runtime
