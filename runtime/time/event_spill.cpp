#include "runtime/time/event_spill.hpp"

#include "runtime/snapshot_codec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace cep::runtime {

namespace {

std::string why() {
  return std::strerror(errno);
}

// The merge reads each run file through a buffer of this size.
constexpr std::size_t kReadBuffer = 1 << 20;

} // namespace

struct EventSpill::Run {
  std::string path;
  std::FILE *file = nullptr;
  std::string record; // the current record's bytes
  EventRef head;      // the run's next event in the merge (null: exhausted)

  ~Run() {
    if (file != nullptr) {
      std::fclose(file);
    }
  }
};

EventSpill::EventSpill(const Schema &schema, const std::string &parent, std::uint64_t budget_bytes)
    : schema_(schema), budget_(budget_bytes) {
  std::string templ = (parent.empty() ? std::string(".") : parent) + "/cep-sort-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw SpillError("cannot create a folder for --order sort's runs under " +
                     (parent.empty() ? std::string(".") : parent) + ": " + why());
  }
  folder_ = buf.data();
}

EventSpill::~EventSpill() {
  runs_.clear(); // closes the files
  std::error_code ignored;
  std::filesystem::remove_all(folder_, ignored);
}

std::size_t EventSpill::heldBytes(const Event &e) const {
  // The block: header, slots, string bytes, the raw record; and the buffer's entry (time,
  // arrival, reference).
  std::size_t bytes = sizeof(Event) + e.field_count * sizeof(Slot) + e.raw_size + 24;
  const EventSchema &type = schema_.types[e.type];
  for (std::uint32_t i = 0; i < e.field_count && i < type.fields.size(); ++i) {
    if (type.fields[i].kind == FieldKind::String && !e.isNull(i)) {
      bytes += sizeof(std::uint32_t) + e.slots()[i].s->size;
    }
  }
  // The allocator's share: a 16-byte prefix and blocks in 32-byte size classes (event.hpp).
  return ((bytes + 16 + 31) / 32) * 32;
}

void EventSpill::writeRun(const std::vector<EventRef> &events) {
  if (merging_) {
    throw SpillError("internal: a run written after the merge started");
  }
  auto run = std::make_unique<Run>();
  run->path = folder_ + "/run-" + std::to_string(runs_.size());
  std::FILE *f = std::fopen(run->path.c_str(), "wb");
  if (f == nullptr) {
    throw SpillError("cannot create " + run->path + ": " + why());
  }
  std::vector<char> buffer(kReadBuffer);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  SnapshotBuffer b;
  bool ok = true;
  for (const EventRef &e : events) {
    b.u32(0); // the length, patched below
    writeEvent(b, schema_, *e);
    std::string record = b.take();
    auto length = static_cast<std::uint32_t>(record.size() - 4);
    for (int i = 0; i < 4; ++i) {
      record[static_cast<std::size_t>(i)] = static_cast<char>(length >> (8 * i));
    }
    if (std::fwrite(record.data(), 1, record.size(), f) != record.size()) {
      ok = false;
      break;
    }
    bytes_written_ += record.size();
  }
  std::string error = ok ? std::string() : why();
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    error = why();
  }
  if (!ok) {
    throw SpillError("cannot write " + run->path + ": " + error);
  }
  events_written_ += events.size();
  held_bytes_ = 0;
  runs_.push_back(std::move(run));
}

namespace {

// Reads the next record of `run` into its head; false at the end of the file.
bool readHead(std::FILE *f, const std::string &path, std::string &record) {
  unsigned char len[4];
  std::size_t got = std::fread(len, 1, 4, f);
  if (got == 0 && std::feof(f)) {
    return false;
  }
  if (got != 4) {
    throw SpillError("cannot read " + path + ": a record cut short");
  }
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) {
    n |= static_cast<std::uint32_t>(len[i]) << (8 * i);
  }
  record.resize(n);
  if (std::fread(record.data(), 1, n, f) != n) {
    throw SpillError("cannot read " + path + ": a record cut short");
  }
  return true;
}

bool later(const EventRef &a, const EventRef &b) {
  return a->time > b->time || (a->time == b->time && a->seq > b->seq);
}

} // namespace

EventRef EventSpill::decode(const Run &run) const {
  try {
    SnapshotReader r(run.record, "the sort run " + run.path);
    return readEvent(r, schema_);
  } catch (const std::exception &e) {
    throw SpillError("cannot read back " + run.path + ": " + e.what());
  }
}

void EventSpill::startMerge() {
  merging_ = true;
  for (auto &run : runs_) {
    run->file = std::fopen(run->path.c_str(), "rb");
    if (run->file == nullptr) {
      throw SpillError("cannot read " + run->path + ": " + why());
    }
    std::setvbuf(run->file, nullptr, _IOFBF, kReadBuffer);
    if (readHead(run->file, run->path, run->record)) {
      run->head = decode(*run);
      heap_.push_back(run.get());
    }
  }
  auto cmp = [](const Run *a, const Run *b) { return later(a->head, b->head); };
  std::make_heap(heap_.begin(), heap_.end(), cmp);
}

bool EventSpill::next(EventRef &out) {
  if (!merging_) {
    startMerge();
  }
  if (heap_.empty()) {
    return false;
  }
  auto cmp = [](const Run *a, const Run *b) { return later(a->head, b->head); };
  std::pop_heap(heap_.begin(), heap_.end(), cmp);
  Run *run = heap_.back();
  out = std::move(run->head);
  if (readHead(run->file, run->path, run->record)) {
    run->head = decode(*run);
    std::push_heap(heap_.begin(), heap_.end(), cmp);
  } else {
    heap_.pop_back();
    std::fclose(run->file);
    run->file = nullptr;
    std::error_code ignored;
    std::filesystem::remove(run->path, ignored); // its disk space back as the merge goes
  }
  return true;
}

} // namespace cep::runtime
