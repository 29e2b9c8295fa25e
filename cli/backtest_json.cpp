// `cep backtest --format json`: one JSON document, format "cep-backtest/1" (docs/backtest.md
// "JSON output" lists every member; members are only ever added).
#include "cli/backtest_format.hpp"
#include "runtime/io/json_writer.hpp"

namespace cep::cli::backtest {

namespace {

void optionalFloat(runtime::JsonWriter &w, const std::optional<double> &value) {
  value ? w.writeFloat(*value) : w.writeNull();
}

void optionalInt(runtime::JsonWriter &w, const std::optional<std::int64_t> &value) {
  value ? w.writeInt(*value) : w.writeNull();
}

void count(runtime::JsonWriter &w, std::uint64_t value) {
  w.writeInt(static_cast<std::int64_t>(value));
}

void strings(runtime::JsonWriter &w, const std::vector<std::string> &list) {
  w.beginArray();
  for (const std::string &s : list) {
    w.writeString(s);
  }
  w.endArray();
}

void counts(runtime::JsonWriter &w, const std::vector<std::uint64_t> &list) {
  w.beginArray();
  for (std::uint64_t n : list) {
    count(w, n);
  }
  w.endArray();
}

void ruleResult(runtime::JsonWriter &w, const RuleResult &r) {
  w.beginObject();
  w.key("rule");
  w.writeString(r.rule);
  w.key("alerts");
  count(w, r.alerts);
  w.key("at_end");
  count(w, r.at_end);
  w.key("keyless");
  count(w, r.keyless);
  w.key("alerts_per_day");
  optionalFloat(w, r.alerts_per_day);
  w.key("true_positives");
  count(w, r.true_positives);
  w.key("false_positives");
  count(w, r.false_positives);
  w.key("precision");
  optionalFloat(w, r.precision);
  w.key("caught");
  count(w, r.caught);
  w.key("recall");
  optionalFloat(w, r.recall);
  w.key("delay_median_ms");
  optionalInt(w, r.delay_median_ms);
  w.key("delay_p90_ms");
  optionalInt(w, r.delay_p90_ms);
  w.key("delay_histogram");
  counts(w, r.delay_bins);
  w.endObject();
}

void label(runtime::JsonWriter &w, const Label &l) {
  w.beginObject();
  w.key("key");
  w.writeRaw(l.key);
  w.key("time");
  w.writeTime(l.time);
  w.key("class");
  w.writeString(l.label_class);
  w.key("line");
  count(w, l.line);
  w.endObject();
}

} // namespace

std::string formatJson(const Report &report, const Context &context) {
  std::string out;
  runtime::JsonWriter w(out);
  w.beginObject();
  w.key("format");
  w.writeString("cep-backtest/1");
  w.key("run");
  w.beginObject();
  w.key("rules");
  strings(w, context.rules);
  w.key("inputs");
  strings(w, context.inputs);
  w.key("labels");
  w.writeString(context.labels);
  w.key("order");
  w.writeString(context.order);
  w.key("at_end");
  w.writeString(context.at_end);
  w.key("engine");
  w.writeString(context.engine);
  w.key("horizon_ms");
  w.writeInt(report.window.horizon_ms);
  w.key("lookback_ms");
  w.writeInt(report.window.lookback_ms);
  w.endObject();

  w.key("history");
  w.beginObject();
  w.key("events");
  count(w, report.history.events);
  w.key("first");
  report.history.events > 0 ? w.writeTime(report.history.first) : w.writeNull();
  w.key("last");
  report.history.events > 0 ? w.writeTime(report.history.last) : w.writeNull();
  w.key("days");
  optionalFloat(w, report.days);
  w.endObject();

  w.key("labels");
  w.beginObject();
  w.key("total");
  count(w, report.labels);
  w.key("caught");
  count(w, report.any.caught);
  w.key("missed");
  count(w, report.missed.size());
  w.key("outside_history");
  count(w, report.labels_outside);
  w.endObject();

  w.key("rules");
  w.beginArray();
  for (const RuleResult &r : report.rules) {
    ruleResult(w, r);
  }
  w.endArray();
  w.key("any");
  ruleResult(w, report.any);

  w.key("delay_bins");
  strings(w, delayBinNames());

  w.key("classes");
  w.beginArray();
  for (const ClassResult &c : report.classes) {
    w.beginObject();
    w.key("class");
    w.writeString(c.label_class);
    w.key("labels");
    count(w, c.labels);
    w.key("caught");
    count(w, c.caught);
    w.key("caught_by");
    counts(w, c.caught_by);
    w.endObject();
  }
  w.endArray();

  w.key("overlap");
  w.beginArray();
  for (const auto &row : report.overlap) {
    counts(w, row);
  }
  w.endArray();

  w.key("alerts_per_bucket");
  w.beginObject();
  w.key("bucket");
  w.writeString(report.bucket);
  w.key("starts");
  w.beginArray();
  for (std::int64_t start : report.bucket_starts) {
    w.writeTime(start);
  }
  w.endArray();
  w.key("counts");
  w.beginArray();
  for (const auto &row : report.per_bucket) {
    counts(w, row);
  }
  w.endArray();
  w.endObject();

  w.key("missed");
  w.beginArray();
  for (const Label &l : report.missed) {
    label(w, l);
  }
  w.endArray();
  w.endObject();
  w.endLine();
  return out;
}

} // namespace cep::cli::backtest
