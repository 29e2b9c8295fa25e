#include "runtime/metrics/registry.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace cep::runtime::metrics {

namespace {

enum Type : int { kCounter, kGauge, kHistogram };

constexpr const char *typeName(int type) {
  switch (type) {
  case kCounter:
    return "counter";
  case kGauge:
    return "gauge";
  default:
    return "histogram";
  }
}

bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool validMetricName(std::string_view name) {
  if (name.empty() || !(isNameStart(name[0]) || name[0] == ':')) {
    return false;
  }
  for (char c : name) {
    if (!(isNameStart(c) || isDigit(c) || c == ':')) {
      return false;
    }
  }
  return true;
}

bool validLabelName(std::string_view name) {
  if (name.empty() || !isNameStart(name[0]) || name.starts_with("__")) {
    return false;
  }
  for (char c : name) {
    if (!(isNameStart(c) || isDigit(c))) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void bad(std::string_view name, const std::string &why) {
  throw std::invalid_argument("metric `" + std::string(name) + "`: " + why);
}

void appendLabels(std::string &out, const Labels &labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) {
    return;
  }
  out += '{';
  bool first = true;
  for (const auto &[k, v] : labels) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += k;
    out += "=\"";
    appendEscapedLabelValue(out, v);
    out += '"';
  }
  if (!le.empty()) {
    if (!first) {
      out += ',';
    }
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void appendUint(std::string &out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

} // namespace

using Metric =
    std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Histogram>>;

struct Registry::Family {
  std::string help;
  int type = kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds; // histograms: every series has the same buckets
  double scale = 1.0;         // counters: exposed value = count * scale
  std::map<Labels, Metric> series;
};

Histogram::Histogram(std::span<const double> upper_bounds)
    : bounds_(upper_bounds.begin(), upper_bounds.end()),
      counts_(new std::atomic<std::uint64_t>[upper_bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    counts_[i].store(0, std::memory_order_relaxed);
  }
}

void Histogram::observe(double v) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) {
    ++i;
  }
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.store(sum_.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family &Registry::family(std::string_view name, std::string_view help, int type,
                                   const Labels &labels, double scale) {
  if (!(scale > 0) || !std::isfinite(scale)) {
    bad(name, "the scale must be positive and finite");
  }
  if (!validMetricName(name)) {
    bad(name, "not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
  }
  if (type == kCounter && !name.ends_with("_total")) {
    bad(name, "a counter's name ends in _total");
  }
  if (help.empty()) {
    bad(name, "no help text");
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string &label = labels[i].first;
    if (!validLabelName(label)) {
      bad(name, "label `" + label + "` is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, no __)");
    }
    if (label == "le" && type == kHistogram) {
      bad(name, "label `le` is reserved for histogram buckets");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j].first == label) {
        bad(name, "label `" + label + "` given twice");
      }
    }
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto fam = std::make_unique<Family>();
    fam->help = std::string(help);
    fam->type = type;
    fam->scale = scale;
    for (const auto &l : labels) {
      fam->label_names.push_back(l.first);
    }
    it = families_.emplace(std::string(name), std::move(fam)).first;
    return *it->second;
  }
  Family &fam = *it->second;
  if (fam.type != type) {
    bad(name,
        std::string("registered as a ") + typeName(fam.type) + ", now as a " + typeName(type));
  }
  if (fam.help != help) {
    bad(name, "registered with another help text");
  }
  if (fam.scale != scale) {
    bad(name, "registered with another scale");
  }
  bool same_labels = fam.label_names.size() == labels.size();
  for (std::size_t i = 0; same_labels && i < labels.size(); ++i) {
    same_labels = fam.label_names[i] == labels[i].first;
  }
  if (!same_labels) {
    bad(name, "registered with other label names (a family's label set is fixed)");
  }
  return fam;
}

Counter &Registry::counter(std::string_view name, std::string_view help, const Labels &labels,
                           double scale) {
  std::lock_guard lock(mutex_);
  Family &fam = family(name, help, kCounter, labels, scale);
  auto [it, added] = fam.series.try_emplace(labels);
  if (added) {
    it->second = std::make_unique<Counter>();
  }
  return *std::get<std::unique_ptr<Counter>>(it->second);
}

Gauge &Registry::gauge(std::string_view name, std::string_view help, const Labels &labels) {
  std::lock_guard lock(mutex_);
  Family &fam = family(name, help, kGauge, labels);
  auto [it, added] = fam.series.try_emplace(labels);
  if (added) {
    it->second = std::make_unique<Gauge>();
  }
  return *std::get<std::unique_ptr<Gauge>>(it->second);
}

Histogram &Registry::histogram(std::string_view name, std::string_view help,
                               std::span<const double> upper_bounds, const Labels &labels) {
  if (upper_bounds.empty()) {
    bad(name, "a histogram needs at least one bucket bound");
  }
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && upper_bounds[i] <= upper_bounds[i - 1])) {
      bad(name, "bucket bounds must be finite and strictly increasing");
    }
  }
  std::lock_guard lock(mutex_);
  Family &fam = family(name, help, kHistogram, labels);
  if (fam.series.empty() && fam.bounds.empty()) {
    fam.bounds.assign(upper_bounds.begin(), upper_bounds.end());
  } else if (!std::equal(fam.bounds.begin(), fam.bounds.end(), upper_bounds.begin(),
                         upper_bounds.end())) {
    bad(name, "registered with other bucket bounds");
  }
  auto [it, added] = fam.series.try_emplace(labels);
  if (added) {
    it->second = std::make_unique<Histogram>(upper_bounds);
  }
  return *std::get<std::unique_ptr<Histogram>>(it->second);
}

bool Registry::remove(std::string_view name, const Labels &labels) {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  return it != families_.end() && it->second->series.erase(labels) > 0;
}

void Registry::writePrometheus(std::string &out) const {
  std::lock_guard lock(mutex_);
  for (const auto &[name, fam] : families_) {
    if (fam->series.empty()) {
      continue;
    }
    out += "# HELP ";
    out += name;
    out += ' ';
    appendEscapedHelp(out, fam->help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += typeName(fam->type);
    out += '\n';
    for (const auto &[labels, metric] : fam->series) {
      if (const auto *c = std::get_if<std::unique_ptr<Counter>>(&metric)) {
        out += name;
        appendLabels(out, labels);
        out += ' ';
        if (fam->scale == 1.0) {
          appendUint(out, (*c)->value());
        } else {
          appendSampleValue(out, static_cast<double>((*c)->value()) * fam->scale);
        }
        out += '\n';
      } else if (const auto *g = std::get_if<std::unique_ptr<Gauge>>(&metric)) {
        out += name;
        appendLabels(out, labels);
        out += ' ';
        appendSampleValue(out, (*g)->value());
        out += '\n';
      } else {
        const Histogram &h = *std::get<std::unique_ptr<Histogram>>(metric);
        std::uint64_t cumulative = 0;
        std::string le;
        for (std::size_t i = 0; i <= h.upperBounds().size(); ++i) {
          cumulative += h.bucketCount(i);
          le.clear();
          if (i < h.upperBounds().size()) {
            appendSampleValue(le, h.upperBounds()[i]);
          } else {
            le = "+Inf";
          }
          out += name;
          out += "_bucket";
          appendLabels(out, labels, le);
          out += ' ';
          appendUint(out, cumulative);
          out += '\n';
        }
        out += name;
        out += "_sum";
        appendLabels(out, labels);
        out += ' ';
        appendSampleValue(out, h.sum());
        out += '\n';
        out += name;
        out += "_count";
        appendLabels(out, labels);
        out += ' ';
        // The count is the last bucket's cumulative value, so the two always agree.
        appendUint(out, cumulative);
        out += '\n';
      }
    }
  }
}

void appendEscapedHelp(std::string &out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void appendEscapedLabelValue(std::string &out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void appendSampleValue(std::string &out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
    out.append(buf, r.ptr);
    return;
  }
  // The shortest form that reads back exactly, in printf's %g style: 0.0005, 1.5e-07, 1e+20.
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  out.append(buf, r.ptr);
}

} // namespace cep::runtime::metrics
