// Metrics for `cep serve`: counters, gauges and histograms, and their Prometheus text exposition
// (format 0.0.4). Written by the event loop thread, read by the admin HTTP threads.
//
// Threading: registering or removing a series takes the registry's mutex (rare: at start-up, on a
// deploy or an undeploy). Updating one (Counter::add, Gauge::set, Histogram::observe) is a relaxed
// atomic operation on the object registration returned, with no lock: the hot path. Exposition
// (writePrometheus) takes the mutex against registration only, never blocks an update, and may
// see a histogram's buckets, sum and count from slightly different instants (each value is read
// once, atomically). A reference returned by registration stays valid until that series is
// removed (or the registry destroyed); the thread that updates a series must stop using it before
// removing it.
//
// Rules (std::invalid_argument otherwise, a bug in the caller): metric names match
// [a-zA-Z_:][a-zA-Z0-9_:]*, counter names end in `_total`, label names match
// [a-zA-Z_][a-zA-Z0-9_]* and do not start with `__`, `le` is reserved for histograms; every
// series of a family has the same label names in the same order (the label set is fixed at the
// first registration), the same help and type. Registering a series that exists returns it.
// Label values are any UTF-8; keep them to a bounded set (inputs, patterns; never event keys).
//
// Example:
//   Registry registry;
//   Counter &read = registry.counter("cep_input_records_total", "Records read from an input.",
//                                    {{"input", "a.jsonl"}});
//   Gauge &runs = registry.gauge("cep_pattern_live_runs", "Partial matches in flight.",
//                                {{"pattern", "card_testing"}});
//   Histogram &pause = registry.histogram("cep_deploy_pause_seconds",
//                                         "Event-loop pause of a deploy.", kPauseBuckets);
//   read.add(); runs.set(12); pause.observe(0.0004);     // event loop thread
//   std::string text; registry.writePrometheus(text);    // any thread
// gives, families sorted by name and series by label values:
//   # HELP cep_deploy_pause_seconds Event-loop pause of a deploy.
//   # TYPE cep_deploy_pause_seconds histogram
//   cep_deploy_pause_seconds_bucket{le="0.0001"} 0
//   ...
//   cep_deploy_pause_seconds_bucket{le="+Inf"} 1
//   cep_deploy_pause_seconds_sum 0.0004
//   cep_deploy_pause_seconds_count 1
//   # HELP cep_input_records_total Records read from an input.
//   # TYPE cep_input_records_total counter
//   cep_input_records_total{input="a.jsonl"} 1
//   ...
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cep::runtime::metrics {

// Label name and value pairs, in the family's fixed order.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count (events, matches, deploys).
class Counter {
public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down (live runs, state bytes, a watermark in seconds).
class Gauge {
public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  // Only one thread may add (the event loop): a load and a store, not a read-modify-write.
  void add(double d) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0.0};
};

// Observations counted into fixed buckets (upper bounds, strictly increasing, finite; `+Inf` is
// implied), with their sum and count. One writer thread (observe is not a read-modify-write of
// the sum across threads).
class Histogram {
public:
  explicit Histogram(std::span<const double> upper_bounds);

  void observe(double v) noexcept;

  const std::vector<double> &upperBounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == upperBounds().size(): above the last bound).
  std::uint64_t bucketCount(std::size_t i) const noexcept {
    return counts_[i].load(std::memory_order_relaxed);
  }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_; // bounds_.size() + 1
  std::atomic<double> sum_{0.0};
  std::atomic<std::uint64_t> count_{0};
};

// Buckets for event-loop pauses (deploys), in seconds: 50 µs to 10 s.
inline constexpr double kPauseBuckets[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                           0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                           0.5,     1.0,    2.5,     5.0,    10.0};

class Registry {
public:
  Registry();
  ~Registry();
  Registry(const Registry &) = delete;
  Registry &operator=(const Registry &) = delete;

  // `scale` turns the integer count into the exposed base unit: a counter of nanoseconds
  // registered with scale 1e-9 is written in seconds (`cep_event_loop_busy_seconds_total`), so
  // the hot path still adds integers. The scale is the family's, like its help.
  Counter &counter(std::string_view name, std::string_view help, const Labels &labels = {},
                   double scale = 1.0);
  Gauge &gauge(std::string_view name, std::string_view help, const Labels &labels = {});
  Histogram &histogram(std::string_view name, std::string_view help,
                       std::span<const double> upper_bounds, const Labels &labels = {});

  // Removes one series (e.g. a pattern's, on undeploy); true when it existed. A family left
  // without series is not written. The caller has stopped updating it.
  bool remove(std::string_view name, const Labels &labels);

  // Appends every family (sorted by name; its series sorted by label values) in the Prometheus
  // text format 0.0.4: `# HELP`, `# TYPE`, one line per sample, '\n' line ends.
  void writePrometheus(std::string &out) const;

private:
  struct Family;
  Family &family(std::string_view name, std::string_view help, int type, const Labels &labels,
                 double scale = 1.0);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

// The exposition format's escaping: in `# HELP` text `\` and newline; in label values also `"`.
void appendEscapedHelp(std::string &out, std::string_view text);
void appendEscapedLabelValue(std::string &out, std::string_view text);
// A sample value: integers exactly when they are integral and below 2^53, else the shortest
// round-trip form in printf's %g style (0.0005, 1.5e-07); `+Inf`, `-Inf`, `NaN`.
void appendSampleValue(std::string &out, double v);

} // namespace cep::runtime::metrics
