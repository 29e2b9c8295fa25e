#include "generator.hpp"

#include "countries.hpp"
#include "merchants.hpp"
#include "random.hpp"
#include "time_format.hpp"

#include <array>
#include <cmath>
#include <optional>
#include <queue>
#include <string>
#include <tuple>

namespace cep::tools {

namespace {

// Limits that keep the background silent for the fraud rules, each with a margin.
constexpr std::size_t kMaxUsesPerWindow = 10; // velocity: 11 payments on a card within 1h
constexpr std::int64_t kUseWindow = kHour + kMinute;
constexpr std::size_t kMaxSmallPerWindow = 2; // card testing: 3+ payments under 1.00 within 10m
constexpr std::int64_t kSmallWindow = 15 * kMinute;
constexpr std::int64_t kResetQuiet = 40 * kMinute; // takeover: reset then withdrawal > 1000 in 30m
constexpr std::int64_t kLargeWithdrawalCents = 100'000;
constexpr std::int64_t kMinPaymentDelay = kMinute; // unpaid: an order with no payment within 15m
constexpr std::int64_t kMaxPaymentDelay = 10 * kMinute;

// Weights (out of 100) of the kinds of background event that are not an order's payment.
constexpr unsigned kPaymentWeight = 38;
constexpr unsigned kOrderWeight = 15;
constexpr unsigned kLoginWeight = 27;
constexpr unsigned kResetWeight = 5;
// The remaining 15 are withdrawals.

// The times of the last N uses of something, oldest first out.
template <std::size_t N> class RecentTimes {
public:
  // Whether one more use at `ts` keeps at most N uses in any window shorter than `window`.
  bool hasRoom(std::int64_t ts, std::int64_t window) const {
    return size_ < N || ts - times_[next_] >= window;
  }

  void record(std::int64_t ts) {
    times_[next_] = ts;
    next_ = (next_ + 1) % N;
    size_ = size_ < N ? size_ + 1 : N;
  }

private:
  std::array<std::int64_t, N> times_{};
  std::size_t next_ = 0; // when full, the oldest
  std::size_t size_ = 0;
};

struct CardState {
  std::size_t home = 0;                       // index into countries()
  RecentTimes<kMaxUsesPerWindow> uses;        // payments
  RecentTimes<kMaxSmallPerWindow> small_uses; // payments under 1.00
};

struct UserState {
  std::size_t home = 0;
  std::int32_t lat_e4 = 0; // every login of a user comes from the same place,
  std::int32_t lon_e4 = 0; // so consecutive logins never imply any travel speed
  std::optional<std::int64_t> last_reset;
};

// An order's payment, waiting for its time to come.
struct DuePayment {
  std::int64_t ts = 0;
  std::int64_t seq = 0; // creation order: ties go first-come first-served
  std::int64_t order = 0;
  std::int64_t cents = 0;
};

struct LaterFirst {
  bool operator()(const DuePayment &a, const DuePayment &b) const {
    return std::tie(a.ts, a.seq) > std::tie(b.ts, b.seq);
  }
};

class BackgroundGenerator {
public:
  BackgroundGenerator(const Options &options, std::size_t extra_capacity)
      : options_(options), rng_(options.seed, RngStream::Background),
        extra_capacity_(extra_capacity) {
    const auto country_count = countries().size();
    cards_.resize(static_cast<std::size_t>(options.cards));
    for (auto &card : cards_) {
      card.home = rng_.below(country_count);
    }
    users_.resize(static_cast<std::size_t>(options.users));
    for (auto &user : users_) {
      user.home = rng_.below(country_count);
      const Country &country = countries()[user.home];
      user.lat_e4 =
          country.lat_e4 + static_cast<std::int32_t>(rng_.between(-kHomeJitterE4, kHomeJitterE4));
      user.lon_e4 =
          country.lon_e4 + static_cast<std::int32_t>(rng_.between(-kHomeJitterE4, kHomeJitterE4));
    }
    // Inter-arrival times are uniform in [0, 2 / rate] seconds: mean 1 / rate, no libm needed.
    max_gap_ = std::llround(2000.0 / options.rate);
  }

  std::vector<Event> run() {
    const auto total = static_cast<std::size_t>(options_.events);
    events_.reserve(total + extra_capacity_);
    std::int64_t next_ts = options_.start;
    while (events_.size() < total) {
      // Slots not yet promised to the payments of orders already placed.
      const std::size_t free_slots = total - events_.size() - due_.size();
      if (!due_.empty() && (free_slots == 0 || due_.top().ts <= next_ts)) {
        DuePayment due = due_.top();
        due_.pop();
        emitPayment(due.ts, due.order, due.cents);
        continue;
      }
      emitRegular(next_ts, free_slots);
      next_ts += rng_.between(0, max_gap_);
    }
    return std::move(events_);
  }

private:
  void emitRegular(std::int64_t ts, std::size_t free_slots) {
    const auto roll = static_cast<unsigned>(rng_.below(100));
    if (roll < kPaymentWeight) {
      emitPayment(ts, next_order_++, std::nullopt);
    } else if (roll < kPaymentWeight + kOrderWeight) {
      if (free_slots >= 2) {
        emitOrder(ts);
      } else {
        emitPayment(ts, next_order_++, std::nullopt);
      }
    } else if (roll < kPaymentWeight + kOrderWeight + kLoginWeight) {
      emitLogin(ts);
    } else if (roll < kPaymentWeight + kOrderWeight + kLoginWeight + kResetWeight) {
      emitPasswordReset(ts);
    } else {
      emitWithdrawal(ts);
    }
  }

  // A payment of a placed order (with its total) or a standalone one (amount drawn here).
  void emitPayment(std::int64_t ts, std::int64_t order, std::optional<std::int64_t> cents) {
    const std::size_t card_index = pickCard(ts);
    CardState &card = cards_[card_index];
    Event event;
    event.type = EventType::Payment;
    event.ts = ts;
    event.card = static_cast<std::int64_t>(card_index) + 1;
    event.cents = cents ? *cents : standaloneCents(card, ts);
    const std::size_t country =
        rng_.chance(92) ? card.home : rng_.below(countries().size()); // a trip abroad
    event.country = static_cast<std::uint8_t>(country);
    const auto merchant_roll = rng_.below(100);
    if (merchant_roll < 80) {
      event.merchant_form = MerchantForm::Present;
      event.merchant = static_cast<std::uint8_t>(rng_.below(kEverydayMerchants));
    } else {
      event.merchant_form = merchant_roll < 90 ? MerchantForm::Null : MerchantForm::Absent;
    }
    event.order = order;
    card.uses.record(ts);
    if (event.cents < 100) {
      card.small_uses.record(ts);
    }
    events_.push_back(std::move(event));
  }

  void emitOrder(std::int64_t ts) {
    Event event;
    event.type = EventType::Order;
    event.ts = ts;
    event.order = next_order_++;
    event.user = static_cast<std::int64_t>(rng_.below(users_.size())) + 1;
    event.cents = orderCents(rng_);
    const std::int64_t paid_at = ts + rng_.between(kMinPaymentDelay, kMaxPaymentDelay);
    due_.push({paid_at, due_seq_++, event.order, event.cents});
    events_.push_back(std::move(event));
  }

  void emitLogin(std::int64_t ts) {
    const std::size_t user_index = rng_.below(users_.size());
    const UserState &user = users_[user_index];
    Event event;
    event.type = EventType::Login;
    event.ts = ts;
    event.user = static_cast<std::int64_t>(user_index) + 1;
    event.country = static_cast<std::uint8_t>(user.home);
    event.lat_e4 = user.lat_e4;
    event.lon_e4 = user.lon_e4;
    event.new_device = rng_.chance(5);
    events_.push_back(std::move(event));
  }

  void emitPasswordReset(std::int64_t ts) {
    const std::size_t user_index = rng_.below(users_.size());
    users_[user_index].last_reset = ts;
    Event event;
    event.type = EventType::PasswordReset;
    event.ts = ts;
    event.user = static_cast<std::int64_t>(user_index) + 1;
    events_.push_back(std::move(event));
  }

  void emitWithdrawal(std::int64_t ts) {
    const std::size_t user_index = rng_.below(users_.size());
    const UserState &user = users_[user_index];
    Event event;
    event.type = EventType::Withdrawal;
    event.ts = ts;
    event.user = static_cast<std::int64_t>(user_index) + 1;
    const auto roll = rng_.below(100);
    // Over 1000 only when no password reset of the user could start a takeover match.
    const bool large_ok = !user.last_reset || ts - *user.last_reset >= kResetQuiet;
    if (roll < 85) {
      event.cents = rng_.between(2'000, 50'000);
    } else if (roll < 95 || !large_ok) {
      event.cents = rng_.between(50'001, kLargeWithdrawalCents);
    } else {
      event.cents = rng_.between(kLargeWithdrawalCents + 1, 300'000);
    }
    events_.push_back(std::move(event));
  }

  // Mostly everyday amounts; some under 1.00 (never a third within kSmallWindow on one card).
  std::int64_t standaloneCents(const CardState &card, std::int64_t ts) {
    const auto roll = rng_.below(100);
    if (roll < 4 && card.small_uses.hasRoom(ts, kSmallWindow)) {
      return rng_.between(5, 99);
    }
    if (roll < 64) {
      return rng_.between(100, 5'000);
    }
    if (roll < 90) {
      return rng_.between(5'001, 10'000);
    }
    if (roll < 98) {
      return rng_.between(10'001, 50'000);
    }
    return rng_.between(50'001, 150'000);
  }

  // A random card that has room for one more use at `ts`, probing from a random start.
  std::size_t pickCard(std::int64_t ts) {
    const std::size_t count = cards_.size();
    const std::size_t first = rng_.below(count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t index = (first + i) % count;
      if (cards_[index].uses.hasRoom(ts, kUseWindow)) {
        return index;
      }
    }
    throw KeySpaceError("--cards " + std::to_string(options_.cards) +
                        " is too small for this traffic: every card already has 10 payments in "
                        "the last hour (the limit that keeps the velocity rule quiet); raise "
                        "--cards or lower --rate");
  }

  const Options &options_;
  Rng rng_;
  std::size_t extra_capacity_;
  std::int64_t max_gap_ = 0;
  std::vector<CardState> cards_;
  std::vector<UserState> users_;
  std::priority_queue<DuePayment, std::vector<DuePayment>, LaterFirst> due_;
  std::int64_t due_seq_ = 0;
  std::int64_t next_order_ = 1;
  std::vector<Event> events_;
};

} // namespace

std::int64_t orderCents(Rng &rng) {
  return rng.chance(75) ? rng.between(1'000, 10'000) : rng.between(10'001, 40'000);
}

std::vector<Event> generateBackground(const Options &options, std::size_t extra_capacity) {
  return BackgroundGenerator(options, extra_capacity).run();
}

} // namespace cep::tools
