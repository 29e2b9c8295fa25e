#include "runtime/io/statistics.hpp"

namespace cep::runtime {

namespace {

void appendCounts(std::string &out, const std::string &label, const RecordCounts &counts) {
  out += label;
  out += ": " + std::to_string(counts.read) + " read, " + std::to_string(counts.accepted) +
         " accepted, " + std::to_string(counts.rejected) + " rejected, " +
         std::to_string(counts.late) + " late, " + std::to_string(counts.watermarks) +
         " watermarks\n";
}

} // namespace

RecordCounts &RecordCounts::operator+=(const RecordCounts &other) {
  read += other.read;
  accepted += other.accepted;
  rejected += other.rejected;
  late += other.late;
  watermarks += other.watermarks;
  return *this;
}

RecordCounts Statistics::total() const {
  RecordCounts sum;
  for (const RecordCounts &counts : inputs) {
    sum += counts;
  }
  return sum;
}

std::string formatStatistics(const Statistics &stats, const std::vector<std::string> &names) {
  std::string out;
  for (std::size_t i = 0; i < stats.inputs.size(); ++i) {
    appendCounts(out, i < names.size() ? names[i] : "input " + std::to_string(i), stats.inputs[i]);
  }
  if (stats.inputs.size() > 1) {
    appendCounts(out, "total", stats.total());
  }
  return out;
}

} // namespace cep::runtime
