// agg-yardstick: the hand-written single-purpose programs that cep's aggregate benchmarks are
// measured against (issue #13 §4; bench/README.md "Aggregates against a hand-written program").
//
// It reads the JSON Lines that `bench-gen-seq` writes (one flat object per line with an integer
// "key" and an integer "ts" in epoch ms, other members skipped; times non-decreasing, as the
// generator writes them) and writes exactly the records `cep run RULES -i FILE --max-delay 2s`
// writes for
//
//   rolling   bench/rules/agg_rolling.cep: per key the events of (t - 1h, t]; at each event
//             with more than 10 of them, {"@stream":"Busy","@pattern":"busy","@key":K,
//             "@start":<oldest event in the window>,"@end":<the event>,"n":<count>}
//   tumbling  bench/rules/agg_tumbling.cep: per key and hour [h, h + 1h) with events,
//             {"@stream":"Hourly","@pattern":"hourly","@key":K,"@start":h,"@end":h + 1h,
//             "n":<count>}, an hour's records in the order of each key's first event in it,
//             hours in order; the windows the input's end fires (end > the last event's time)
//             get "@at_end":true
//
// so that bench/agg_bench.py can compare the two outputs byte for byte. Times are RFC 3339 in
// UTC with milliseconds, as cep writes them.
//
// How: the file is mmapped and parsed in place; keys become dense ids through an
// open-addressing table; a key's rolling window is a ring of its event times (count = size);
// the tumbling counts sit in per-hour lists in order of first arrival. Records go to one
// buffer, written out in 1 MiB pieces. Nothing is allocated per event in the steady state.
//
// usage: agg-yardstick rolling|tumbling INPUT.jsonl OUTPUT.jsonl
// prints: records=N seconds=S (wall time of the whole pass) on stdout.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kMinCount = 10; // having count(e) > 10

[[noreturn]] void fail(const char *what, std::uint64_t line) {
  std::fprintf(stderr, "agg-yardstick: line %llu: %s\n", static_cast<unsigned long long>(line),
               what);
  std::exit(1);
}

// ---- input ---------------------------------------------------------------------------------

struct Ev {
  std::int64_t key;
  std::int64_t ts;
};

// One line `{"name":value,...}` of scalars; only "key" and "ts" are read (integers).
const char *parseLine(const char *p, const char *end, Ev &ev, std::uint64_t line) {
  bool has_key = false;
  bool has_ts = false;
  if (*p != '{') {
    fail("not an object", line);
  }
  ++p;
  while (p < end && *p != '}') {
    if (*p != '"') {
      fail("expected a member name", line);
    }
    const char *name = ++p;
    while (p < end && *p != '"') {
      ++p;
    }
    std::string_view n(name, static_cast<std::size_t>(p - name));
    p += 2; // '"' ':'
    if (*p == '"') {
      ++p;
      while (p < end && *p != '"') {
        p += *p == '\\' ? 2 : 1;
      }
      ++p;
    } else {
      bool neg = *p == '-';
      p += neg ? 1 : 0;
      std::int64_t v = 0;
      const char *digits = p;
      while (p < end && static_cast<unsigned>(*p - '0') < 10U) {
        v = v * 10 + (*p++ - '0');
      }
      if (p == digits) {
        fail("expected an integer", line);
      }
      v = neg ? -v : v;
      if (n == "key") {
        ev.key = v;
        has_key = true;
      } else if (n == "ts") {
        ev.ts = v;
        has_ts = true;
      }
    }
    if (*p == ',') {
      ++p;
    }
  }
  if (!has_key || !has_ts) {
    fail("no integer \"key\" and \"ts\"", line);
  }
  while (p < end && *p != '\n') {
    ++p;
  }
  return p + 1;
}

// Dense ids for keys: linear probing over a power-of-two table, Fibonacci hashing.
class KeyIds {
public:
  KeyIds() : slots_(1 << 16, Slot{0, -1}) {}
  std::int32_t idOf(std::int64_t key) {
    for (;;) {
      std::size_t mask = slots_.size() - 1;
      std::size_t i = (static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ULL) >> 40 & mask;
      while (slots_[i].id >= 0) {
        if (slots_[i].key == key) {
          return slots_[i].id;
        }
        i = (i + 1) & mask;
      }
      if ((static_cast<std::size_t>(count_) + 1) * 2 > slots_.size()) {
        grow();
        continue;
      }
      slots_[i] = {key, count_};
      keys_.push_back(key);
      return count_++;
    }
  }
  std::int64_t keyOf(std::int32_t id) const { return keys_[static_cast<std::size_t>(id)]; }
  std::int32_t size() const { return count_; }

private:
  struct Slot {
    std::int64_t key;
    std::int32_t id;
  };
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{0, -1});
    std::size_t mask = slots_.size() - 1;
    for (const Slot &s : old) {
      if (s.id >= 0) {
        std::size_t i = (static_cast<std::uint64_t>(s.key) * 0x9E3779B97F4A7C15ULL) >> 40 & mask;
        while (slots_[i].id >= 0) {
          i = (i + 1) & mask;
        }
        slots_[i] = s;
      }
    }
  }
  std::vector<Slot> slots_;
  std::vector<std::int64_t> keys_;
  std::int32_t count_ = 0;
};

// ---- output --------------------------------------------------------------------------------

class Out {
public:
  explicit Out(int fd) : fd_(fd) { buf_.reserve(kChunk + 4096); }
  ~Out() { flush(); }
  void put(std::string_view s) { buf_.insert(buf_.end(), s.begin(), s.end()); }
  void putInt(std::int64_t v) {
    char tmp[24];
    char *e = tmp + sizeof tmp;
    char *p = e;
    std::uint64_t u = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    do {
      *--p = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) {
      *--p = '-';
    }
    buf_.insert(buf_.end(), p, e);
  }
  // "YYYY-MM-DDTHH:MM:SS.mmmZ" in quotes; the date part is cached per day, one cache per
  // `slot` (0: "@start", 1: "@end": a window across midnight has them on two days).
  void putTime(std::int64_t ms, int slot) {
    std::int64_t day = ms >= 0 ? ms / 86'400'000 : (ms - 86'399'999) / 86'400'000;
    std::int64_t in_day = ms - day * 86'400'000;
    if (day != cached_day_[slot]) {
      cacheDay(day, slot);
    }
    char t[26];
    std::memcpy(t, date_[slot], 12); // '"' and "YYYY-MM-DDT"
    auto two = [&](int at, std::int64_t v) {
      t[at] = static_cast<char>('0' + v / 10);
      t[at + 1] = static_cast<char>('0' + v % 10);
    };
    std::int64_t s = in_day / 1000;
    two(12, s / 3600);
    t[14] = ':';
    two(15, s / 60 % 60);
    t[17] = ':';
    two(18, s % 60);
    t[20] = '.';
    std::int64_t m = in_day % 1000;
    t[21] = static_cast<char>('0' + m / 100);
    two(22, m % 100);
    t[24] = 'Z';
    t[25] = '"';
    buf_.insert(buf_.end(), t, t + sizeof t);
  }
  void endRecord() {
    buf_.push_back('\n');
    ++records_;
    if (buf_.size() >= kChunk) {
      flush();
    }
  }
  void flush() {
    const char *p = buf_.data();
    std::size_t n = buf_.size();
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        std::perror("agg-yardstick: write");
        std::exit(1);
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    buf_.clear();
  }
  std::uint64_t records() const { return records_; }

private:
  static constexpr std::size_t kChunk = 1 << 20;
  // Days since 1970-01-01 to a proleptic Gregorian date, through 400-year eras of 146097 days
  // counted from 0000-03-01 (so the leap day ends a year).
  void cacheDay(std::int64_t day, int slot) {
    cached_day_[slot] = day;
    std::int64_t z = day + 719'468;
    std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
    std::int64_t doe = z - era * 146'097;
    std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
    std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    std::int64_t mp = (5 * doy + 2) / 153;
    std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    char *p = date_[slot];
    *p++ = '"';
    for (std::int64_t div = 1000; div > 0; div /= 10) {
      *p++ = static_cast<char>('0' + y / div % 10); // years 0000-9999
    }
    *p++ = '-';
    *p++ = static_cast<char>('0' + m / 10);
    *p++ = static_cast<char>('0' + m % 10);
    *p++ = '-';
    *p++ = static_cast<char>('0' + d / 10);
    *p++ = static_cast<char>('0' + d % 10);
    *p = 'T';
  }
  int fd_;
  std::vector<char> buf_;
  std::uint64_t records_ = 0;
  std::int64_t cached_day_[2] = {INT64_MIN, INT64_MIN};
  char date_[2][12] = {};
};

// ---- the two queries -----------------------------------------------------------------------

// A key's rolling window: its event times, oldest first, in a power-of-two ring.
struct Times {
  std::vector<std::int64_t> ring;
  std::uint32_t head = 0;
  std::uint32_t size = 0;
  std::int64_t front() const { return ring[head]; }
  void pop() {
    head = (head + 1) & static_cast<std::uint32_t>(ring.size() - 1);
    --size;
  }
  void push(std::int64_t t) {
    if (size == ring.size()) {
      std::vector<std::int64_t> grown(ring.empty() ? 16 : ring.size() * 2);
      for (std::uint32_t i = 0; i < size; ++i) {
        grown[i] = ring[(head + i) & (ring.size() - 1)];
      }
      ring = std::move(grown);
      head = 0;
    }
    ring[(head + size) & (ring.size() - 1)] = t;
    ++size;
  }
};

void record(Out &out, std::string_view stream, std::string_view name, std::int64_t key,
            std::int64_t start, std::int64_t end, std::int64_t n) {
  out.put("{\"@stream\":\"");
  out.put(stream);
  out.put("\",\"@pattern\":\"");
  out.put(name);
  out.put("\",\"@key\":");
  out.putInt(key);
  out.put(",\"@start\":");
  out.putTime(start, 0);
  out.put(",\"@end\":");
  out.putTime(end, 1);
  out.put(",\"n\":");
  out.putInt(n);
}

struct Input {
  const char *p;
  const char *end;
  std::uint64_t line = 0;
  std::int64_t last_ts = INT64_MIN;
  bool next(Ev &ev) {
    while (p < end && *p == '\n') {
      ++p;
      ++line;
    }
    if (p >= end) {
      return false;
    }
    p = parseLine(p, end, ev, ++line);
    if (ev.ts < last_ts) {
      fail("times must not decrease (the yardstick reorders nothing)", line);
    }
    last_ts = ev.ts;
    return true;
  }
};

void rolling(Input &in, Out &out) {
  KeyIds ids;
  std::vector<Times> keys;
  Ev ev{};
  while (in.next(ev)) {
    std::int32_t id = ids.idOf(ev.key);
    if (static_cast<std::size_t>(id) == keys.size()) {
      keys.emplace_back();
    }
    Times &w = keys[static_cast<std::size_t>(id)];
    while (w.size > 0 && w.front() <= ev.ts - kHour) {
      w.pop();
    }
    w.push(ev.ts);
    if (w.size > kMinCount) {
      record(out, "Busy", "busy", ev.key, w.front(), ev.ts, w.size);
      out.put("}");
      out.endRecord();
    }
  }
}

void tumbling(Input &in, Out &out) {
  // Open hours, oldest first: each a list of (key id, count) in order of first arrival. With
  // --max-delay 2s an hour fires once an event at end + 2s arrives (watermark = max - 2s - 1 ms
  // >= end - 1); the hours still open at the end fire with "@at_end" when end > the last time.
  struct Hour {
    std::int64_t start;
    std::vector<std::pair<std::int32_t, std::int64_t>> counts;
  };
  std::vector<Hour> open; // at most a few: oldest first
  struct Where {
    std::int64_t hour = INT64_MIN;
    std::uint32_t at = 0;
  };
  std::vector<Where> where; // per key: its entry in its latest hour
  KeyIds ids;
  auto fire = [&](const Hour &h, bool at_end) {
    for (const auto &[id, n] : h.counts) {
      record(out, "Hourly", "hourly", ids.keyOf(id), h.start, h.start + kHour, n);
      out.put(at_end ? ",\"@at_end\":true}" : "}");
      out.endRecord();
    }
  };
  Ev ev{};
  while (in.next(ev)) {
    std::int64_t watermark = ev.ts - 2000 - 1;
    while (!open.empty() && open.front().start + kHour - 1 <= watermark) {
      fire(open.front(), false);
      open.erase(open.begin());
    }
    std::int64_t start =
        (ev.ts >= 0 ? ev.ts / kHour : (ev.ts - kHour + 1) / kHour) * kHour; // floor
    if (open.empty() || open.back().start != start) {
      open.push_back({start, {}});
    }
    std::int32_t id = ids.idOf(ev.key);
    if (static_cast<std::size_t>(id) == where.size()) {
      where.emplace_back();
    }
    Where &w = where[static_cast<std::size_t>(id)];
    auto &counts = open.back().counts;
    if (w.hour == start) {
      ++counts[w.at].second;
    } else {
      w = {start, static_cast<std::uint32_t>(counts.size())};
      counts.emplace_back(id, 1);
    }
  }
  // End of input: time advanced to the last event's time first (those windows are not
  // "@at_end"), then to +infinity.
  for (const Hour &h : open) {
    fire(h, h.start + kHour - 1 > in.last_ts - 1);
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 4 ||
      (std::strcmp(argv[1], "rolling") != 0 && std::strcmp(argv[1], "tumbling") != 0)) {
    std::fprintf(stderr, "usage: agg-yardstick rolling|tumbling INPUT.jsonl OUTPUT.jsonl\n");
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  int fd = ::open(argv[2], O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::perror(argv[2]);
    return 1;
  }
  auto size = static_cast<std::size_t>(st.st_size);
  const char *data = "";
  if (size > 0) {
    void *m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED) {
      std::perror("mmap");
      return 1;
    }
    data = static_cast<const char *>(m);
  }
  if (size > 0 && data[size - 1] != '\n') {
    std::fprintf(stderr, "agg-yardstick: %s does not end with a newline\n", argv[2]);
    return 1;
  }
  int ofd = ::open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (ofd < 0) {
    std::perror(argv[3]);
    return 1;
  }
  std::uint64_t records = 0;
  {
    Out out(ofd);
    Input in{data, data + size};
    if (argv[1][0] == 'r') {
      rolling(in, out);
    } else {
      tumbling(in, out);
    }
    out.flush();
    records = out.records();
  }
  ::close(ofd);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("records=%llu seconds=%.3f\n", static_cast<unsigned long long>(records), s);
  return 0;
}
