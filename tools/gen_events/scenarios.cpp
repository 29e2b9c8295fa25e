#include "scenarios.hpp"

#include "countries.hpp"
#include "generator.hpp"
#include "keys.hpp"
#include "merchants.hpp"
#include "random.hpp"
#include "time_format.hpp"

#include <algorithm>
#include <string_view>

namespace cep::tools {

namespace {

class ScenarioBuilder {
public:
  ScenarioBuilder(const Options &options, std::int64_t first_ts, std::int64_t last_ts)
      : options_(options), first_ts_(first_ts), last_ts_(last_ts) {}

  ScenarioEvents build() {
    const ScenarioCounts &counts = options_.scenarios;
    repeat(counts.card_testing, RngStream::CardTesting, &ScenarioBuilder::cardTesting);
    repeat(counts.velocity, RngStream::Velocity, &ScenarioBuilder::velocity);
    repeat(counts.takeover, RngStream::Takeover, &ScenarioBuilder::takeover);
    repeat(counts.travel, RngStream::Travel, &ScenarioBuilder::travel);
    repeat(counts.unpaid, RngStream::Unpaid, &ScenarioBuilder::unpaid);
    repeat(counts.click_flood, RngStream::ClickFlood, &ScenarioBuilder::clickFlood);
    repeat(counts.slow_card_testing, RngStream::SlowCardTesting, &ScenarioBuilder::slowCardTesting);
    return std::move(out_);
  }

private:
  using Builder = void (ScenarioBuilder::*)(Rng &);

  void repeat(std::int64_t count, RngStream stream, Builder builder) {
    Rng rng(options_.seed, stream);
    for (std::int64_t i = 0; i < count; ++i) {
      (this->*builder)(rng);
      place(rng, out_.labels.back());
      if (builder == &ScenarioBuilder::clickFlood) {
        alignToWindow(out_.labels.back());
      }
    }
  }

  // Builders write times relative to the scenario's first event; this moves the scenario to a
  // random place inside the background's span, or to its start when it is longer than that.
  void place(Rng &rng, Label &label) {
    const std::int64_t duration = out_.events[label.events.back()].ts;
    const std::int64_t room = std::max<std::int64_t>(0, last_ts_ - first_ts_ - duration);
    const std::int64_t offset = first_ts_ + rng.between(0, room);
    for (const std::size_t event : label.events) {
      out_.events[event].ts += offset;
    }
    label.start += offset;
    label.end += offset;
  }

  // 3-5 payments under 1.00 on one card, then one over 500 from another country; < 10 minutes.
  void cardTesting(Rng &rng) {
    const std::int64_t card = next_card_++;
    const std::size_t home = rng.below(countries().size());
    const std::size_t abroad = otherCountry(rng, home);
    Label &label = startLabel("card_testing", cardKey(card), "CardTesting");
    std::int64_t ts = 0;
    const auto probes = rng.between(3, 5);
    for (std::int64_t i = 0; i < probes; ++i) {
      if (i > 0) {
        ts += rng.between(5 * kSecond, 60 * kSecond);
      }
      add(label, payment(rng, ts, card, rng.between(1, 99), home));
    }
    ts += rng.between(10 * kSecond, 2 * kMinute);
    add(label, payment(rng, ts, card, rng.between(50'001, 300'000), abroad));
  }

  // Card testing the card_testing rule misses: 3 probes under 1.00 5-6 minutes apart, then one
  // payment over 500 from another country 1-2 minutes later; 11-14 minutes in all, and no 3
  // probes within 10 minutes. The label expects no record (stream "").
  void slowCardTesting(Rng &rng) {
    const std::int64_t card = next_card_++;
    const std::size_t home = rng.below(countries().size());
    const std::size_t abroad = otherCountry(rng, home);
    Label &label = startLabel("slow_card_testing", cardKey(card), "");
    label.label_class = "card_testing";
    std::int64_t ts = 0;
    for (int i = 0; i < 3; ++i) {
      if (i > 0) {
        ts += rng.between(5 * kMinute, 6 * kMinute);
      }
      add(label, payment(rng, ts, card, rng.between(1, 99), home));
    }
    ts += rng.between(kMinute, 2 * kMinute);
    add(label, payment(rng, ts, card, rng.between(50'001, 300'000), abroad));
  }

  // 11-14 everyday payments on one card within one hour; the match is the first 11.
  void velocity(Rng &rng) {
    const std::int64_t card = next_card_++;
    const std::size_t home = rng.below(countries().size());
    Label &label = startLabel("velocity", cardKey(card), "Velocity");
    std::int64_t ts = 0;
    const auto uses = rng.between(11, 14);
    for (std::int64_t i = 0; i < uses; ++i) {
      if (i > 0) {
        ts += rng.between(10 * kSecond, 2 * kMinute); // 13 gaps: at most 26 minutes in all
      }
      add(label, payment(rng, ts, card, rng.between(100, 15'000), home));
    }
    label.end = out_.events[label.events[10]].ts;
  }

  // New-device login, password reset within 10m, withdrawal over 1000 within 10m of the reset.
  void takeover(Rng &rng) {
    const std::int64_t user = next_user_++;
    const std::size_t home = rng.below(countries().size());
    Label &label = startLabel("takeover", userKey(user), "Takeover");
    std::int64_t ts = 0;
    add(label, login(rng, ts, user, home, true));
    ts += rng.between(20 * kSecond, 9 * kMinute);
    Event reset;
    reset.type = EventType::PasswordReset;
    reset.ts = ts;
    reset.user = user;
    add(label, std::move(reset));
    ts += rng.between(20 * kSecond, 9 * kMinute);
    Event cash;
    cash.type = EventType::Withdrawal;
    cash.ts = ts;
    cash.user = user;
    cash.cents = rng.between(100'001, 900'000);
    add(label, std::move(cash));
  }

  // Two logins of one user, 2 to 30 minutes apart, from capitals of different regions
  // (> 3500 km apart): at least 7000 km/h.
  void travel(Rng &rng) {
    const std::int64_t user = next_user_++;
    const auto all = countries();
    const std::size_t from = rng.below(all.size());
    std::size_t to = from;
    while (all[to].region == all[from].region) {
      to = rng.below(all.size());
    }
    Label &label = startLabel("travel", userKey(user), "ImpossibleTravel");
    std::int64_t ts = 0;
    add(label, login(rng, ts, user, from, false));
    ts += rng.between(2 * kMinute, 30 * kMinute);
    add(label, login(rng, ts, user, to, rng.chance(50)));
  }

  // An order that is never paid.
  void unpaid(Rng &rng) {
    Event order;
    order.type = EventType::Order;
    order.ts = 0;
    order.order = next_order_++;
    order.user =
        static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(options_.users))) + 1;
    order.cents = orderCents(rng);
    Label &label = startLabel("unpaid", orderKey(order.order), "Unpaid");
    add(label, std::move(order));
  }

  // 6-9 clicks of one fresh user within 4 minutes, moved (alignToWindow) into one clock-aligned
  // 5-minute window: `click_flood` (tumbling 5m, having count(c) > 5) writes one record.
  void clickFlood(Rng &rng) {
    const std::int64_t user = next_user_++;
    Label &label = startLabel("click_flood", userKey(user), "ClickFlood");
    std::int64_t ts = 0;
    const auto clicks = rng.between(6, 9);
    for (std::int64_t i = 0; i < clicks; ++i) {
      if (i > 0) {
        ts += rng.between(1 * kSecond, 30 * kSecond); // 8 gaps: at most 4 minutes in all
      }
      Event click;
      click.type = EventType::Click;
      click.ts = ts;
      click.user = user;
      click.page = static_cast<std::uint8_t>(rng.below(kPageCount));
      add(label, std::move(click));
    }
  }

  // Moves a placed click flood forward to the next 5-minute boundary of the clock (epoch), so
  // that its clicks share one tumbling 5m window.
  void alignToWindow(Label &label) {
    constexpr std::int64_t kWindow = 5 * kMinute;
    const std::int64_t first = out_.events[label.events.front()].ts;
    const std::int64_t shift = (kWindow - first % kWindow) % kWindow;
    for (const std::size_t event : label.events) {
      out_.events[event].ts += shift;
    }
    label.start += shift;
    label.end += shift;
  }

  Event payment(Rng &rng, std::int64_t ts, std::int64_t card, std::int64_t cents,
                std::size_t country) {
    Event event;
    event.type = EventType::Payment;
    event.ts = ts;
    event.card = card;
    event.cents = cents;
    event.country = static_cast<std::uint8_t>(country);
    if (rng.chance(80)) {
      event.merchant_form = MerchantForm::Present;
      event.merchant =
          static_cast<std::uint8_t>(kProbeMerchants[rng.below(kProbeMerchants.size())]);
    } else {
      event.merchant_form = rng.chance(50) ? MerchantForm::Null : MerchantForm::Absent;
    }
    event.order = next_order_++;
    return event;
  }

  static Event login(Rng &rng, std::int64_t ts, std::int64_t user, std::size_t country,
                     bool new_device) {
    const Country &place = countries()[country];
    Event event;
    event.type = EventType::Login;
    event.ts = ts;
    event.user = user;
    event.country = static_cast<std::uint8_t>(country);
    event.lat_e4 =
        place.lat_e4 + static_cast<std::int32_t>(rng.between(-kHomeJitterE4, kHomeJitterE4));
    event.lon_e4 =
        place.lon_e4 + static_cast<std::int32_t>(rng.between(-kHomeJitterE4, kHomeJitterE4));
    event.new_device = new_device;
    return event;
  }

  static std::size_t otherCountry(Rng &rng, std::size_t country) {
    const std::size_t count = countries().size();
    return (country + 1 + rng.below(count - 1)) % count;
  }

  Label &startLabel(std::string_view scenario, const std::string &key, std::string_view stream) {
    Label &label = out_.labels.emplace_back();
    label.scenario = std::string(scenario);
    label.label_class = label.scenario;
    label.key = key;
    label.stream = std::string(stream);
    return label;
  }

  // Appends a scenario event; the label's span runs from its first to its last event.
  void add(Label &label, Event event) {
    if (label.events.empty()) {
      label.start = event.ts;
    }
    label.end = event.ts;
    label.events.push_back(out_.events.size());
    out_.events.push_back(std::move(event));
  }

  const Options &options_;
  std::int64_t first_ts_;
  std::int64_t last_ts_;
  std::int64_t next_card_ = kFirstScenarioCard;
  std::int64_t next_user_ = kFirstScenarioUser;
  std::int64_t next_order_ = kFirstScenarioOrder;
  ScenarioEvents out_;
};

} // namespace

std::size_t maxScenarioEvents(const ScenarioCounts &counts) {
  const std::int64_t most = 6 * counts.card_testing + 14 * counts.velocity + 3 * counts.takeover +
                            2 * counts.travel + counts.unpaid + 9 * counts.click_flood +
                            4 * counts.slow_card_testing;
  return static_cast<std::size_t>(most);
}

ScenarioEvents injectScenarios(const Options &options, std::int64_t first_ts,
                               std::int64_t last_ts) {
  return ScenarioBuilder(options, first_ts, last_ts).build();
}

} // namespace cep::tools
