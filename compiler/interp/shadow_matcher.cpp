#include "compiler/interp/shadow_matcher.hpp"

#include "runtime/state/migration.hpp"

#include <algorithm>

namespace cep::compiler::interp {

ShadowMatcher::ShadowMatcher(std::unique_ptr<runtime::Matcher> native,
                             std::unique_ptr<InterpMatcher> shadow, std::vector<std::string> keys)
    : native_(std::move(native)), shadow_(std::move(shadow)) {
  for (const std::string &k : keys) {
    // Records start {"@stream":..,"@pattern":..[,"@version":..],"@key":K,"@start":..
    // (record.cpp): the key is found between those members, whatever the names hold.
    key_markers_.push_back(",\"@key\":" + k + ",\"@start\":");
  }
}

ShadowMatcher::~ShadowMatcher() = default;

runtime::MigrationReport ShadowMatcher::checkMigration(const runtime::MatcherState &from) const {
  return native_->checkMigration(from);
}

runtime::MigrationReport ShadowMatcher::migrateFrom(const runtime::MatcherState &from) {
  return native_->migrateFrom(from);
}

void ShadowMatcher::advanceTime(std::int64_t time, std::vector<runtime::MatchOutput> &out) {
  std::size_t from = out.size();
  native_->advanceTime(time, out);
  shadow_->advanceTime(time, shadow_out_);
  compare(out, from, "a time advance");
}

void ShadowMatcher::advanceWatermark(std::int64_t watermark,
                                     std::vector<runtime::MatchOutput> &out) {
  std::size_t from = out.size();
  native_->advanceWatermark(watermark, out);
  shadow_->advanceWatermark(watermark, shadow_out_);
  compare(out, from, "a watermark");
}

void ShadowMatcher::onEvent(const runtime::EventRef &event,
                            std::vector<runtime::MatchOutput> &out) {
  std::size_t from = out.size();
  native_->onEvent(event, out);
  shadow_->onEvent(event, shadow_out_);
  compare(out, from, "an event");
}

bool ShadowMatcher::onLateEvent(const runtime::EventRef &event,
                                std::vector<runtime::MatchOutput> &out) {
  std::size_t from = out.size();
  bool taken = native_->onLateEvent(event, out);
  shadow_->onLateEvent(event, shadow_out_);
  compare(out, from, "a late event");
  return taken;
}

void ShadowMatcher::finish(std::vector<runtime::MatchOutput> &out) {
  std::size_t from = out.size();
  native_->finish(out);
  shadow_->finish(shadow_out_);
  compare(out, from, "the end of input");
}

void ShadowMatcher::compare(const std::vector<runtime::MatchOutput> &out, std::size_t from,
                            const char *call) {
  std::vector<std::string> native;
  for (std::size_t i = from; i < out.size(); ++i) {
    const std::string &json = out[i].json;
    for (const std::string &marker : key_markers_) {
      if (json.find(marker) != std::string::npos) {
        native.push_back(json);
        break;
      }
    }
  }
  std::vector<std::string> shadow;
  for (runtime::MatchOutput &o : shadow_out_) {
    shadow.push_back(std::move(o.json));
  }
  shadow_out_.clear();
  // Within one call the driver sorts the records afterwards: compared as sets of lines.
  std::sort(native.begin(), native.end());
  std::sort(shadow.begin(), shadow.end());
  compared_ += native.size();
  if (native == shadow) {
    return;
  }
  if (++disagreements_ > 1) {
    return;
  }
  first_difference_ = "pattern " + std::string(native_->patternName()) + ", at " + call + ": ";
  auto missing = [](const std::vector<std::string> &a, const std::vector<std::string> &b) {
    for (const std::string &x : a) {
      if (!std::binary_search(b.begin(), b.end(), x)) {
        return x;
      }
    }
    return std::string();
  };
  if (std::string n = missing(native, shadow); !n.empty()) {
    first_difference_ += "the native matcher wrote " + n + ", the interpreter did not";
  } else if (std::string m = missing(shadow, native); !m.empty()) {
    first_difference_ += "the interpreter wrote " + m + ", the native matcher did not";
  } else { // the same records, some written more often by one of them
    first_difference_ += "the native matcher wrote " + std::to_string(native.size()) +
                         " records, the interpreter " + std::to_string(shadow.size());
  }
}

} // namespace cep::compiler::interp
