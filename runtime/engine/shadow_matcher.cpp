#include "runtime/engine/shadow_matcher.hpp"

#include "runtime/state/migration.hpp"

#include <algorithm>

namespace cep::runtime {

ShadowMatcher::ShadowMatcher(std::unique_ptr<Matcher> native, std::unique_ptr<Matcher> shadow,
                             std::vector<std::string> keys)
    : owned_native_(std::move(native)), native_(owned_native_.get()) {
  addShadow(std::move(shadow), keys, nullptr);
}

ShadowMatcher::ShadowMatcher(Matcher &native) : native_(&native) {}

ShadowMatcher::Shadow *ShadowMatcher::addShadow(std::unique_ptr<Matcher> shadow,
                                                const std::vector<std::string> &keys,
                                                std::shared_ptr<void> keep) {
  auto s = std::make_unique<Shadow>();
  s->keep = std::move(keep);
  s->matcher = std::move(shadow);
  for (const std::string &k : keys) {
    // Records start {"@stream":..,"@pattern":..[,"@version":..],"@key":K,"@start":..
    // (compiler/interp/record.cpp): the key is found between those members, whatever the names
    // hold.
    s->key_markers.push_back(",\"@key\":" + k + ",\"@start\":");
  }
  shadows_.push_back(std::move(s));
  return shadows_.back().get();
}

void ShadowMatcher::removeShadow(Shadow *shadow) {
  for (auto it = shadows_.begin(); it != shadows_.end(); ++it) {
    if (it->get() == shadow) {
      shadows_.erase(it);
      return;
    }
  }
}

ShadowMatcher::~ShadowMatcher() = default;

MigrationReport ShadowMatcher::checkMigration(const MatcherState &from) const {
  return native_->checkMigration(from);
}

MigrationReport ShadowMatcher::migrateFrom(const MatcherState &from) {
  return native_->migrateFrom(from);
}

void ShadowMatcher::advanceTime(std::int64_t time, std::vector<MatchOutput> &out) {
  std::size_t from = out.size();
  native_->advanceTime(time, out);
  for (auto &s : shadows_) {
    s->matcher->advanceTime(time, s->out);
  }
  compare(out, from, "a time advance");
}

void ShadowMatcher::advanceWatermark(std::int64_t watermark, std::vector<MatchOutput> &out) {
  std::size_t from = out.size();
  native_->advanceWatermark(watermark, out);
  for (auto &s : shadows_) {
    s->matcher->advanceWatermark(watermark, s->out);
  }
  compare(out, from, "a watermark");
}

void ShadowMatcher::onEvent(const EventRef &event, std::vector<MatchOutput> &out) {
  std::size_t from = out.size();
  native_->onEvent(event, out);
  for (auto &s : shadows_) {
    s->matcher->onEvent(event, s->out);
  }
  compare(out, from, "an event");
}

bool ShadowMatcher::onLateEvent(const EventRef &event, std::vector<MatchOutput> &out) {
  std::size_t from = out.size();
  bool taken = native_->onLateEvent(event, out);
  for (auto &s : shadows_) {
    s->matcher->onLateEvent(event, s->out);
  }
  compare(out, from, "a late event");
  return taken;
}

void ShadowMatcher::finish(std::vector<MatchOutput> &out) {
  std::size_t from = out.size();
  native_->finish(out);
  for (auto &s : shadows_) {
    s->matcher->finish(s->out);
  }
  compare(out, from, "the end of input");
}

void ShadowMatcher::compare(const std::vector<MatchOutput> &out, std::size_t from,
                            const char *call) {
  for (auto &s : shadows_) {
    std::vector<std::string> native;
    for (std::size_t i = from; i < out.size(); ++i) {
      const std::string &json = out[i].json;
      for (const std::string &marker : s->key_markers) {
        if (json.find(marker) != std::string::npos) {
          native.push_back(json);
          break;
        }
      }
    }
    std::vector<std::string> shadow;
    for (MatchOutput &o : s->out) {
      shadow.push_back(std::move(o.json));
    }
    s->out.clear();
    // Within one call the driver sorts the records afterwards: compared as sets of lines.
    std::sort(native.begin(), native.end());
    std::sort(shadow.begin(), shadow.end());
    s->compared += native.size();
    if (native == shadow || ++s->disagreements > 1) {
      continue;
    }
    std::string &first = s->first_difference;
    first = "pattern " + std::string(native_->patternName()) + ", at " + call + ": ";
    auto missing = [](const std::vector<std::string> &a, const std::vector<std::string> &b) {
      for (const std::string &x : a) {
        if (!std::binary_search(b.begin(), b.end(), x)) {
          return x;
        }
      }
      return std::string();
    };
    if (std::string n = missing(native, shadow); !n.empty()) {
      first += "the native matcher wrote " + n + ", the interpreter did not";
    } else if (std::string m = missing(shadow, native); !m.empty()) {
      first += "the interpreter wrote " + m + ", the native matcher did not";
    } else { // the same records, some written more often by one of them
      first += "the native matcher wrote " + std::to_string(native.size()) +
               " records, the interpreter " + std::to_string(shadow.size());
    }
  }
}

} // namespace cep::runtime
