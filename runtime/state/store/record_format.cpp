#include "runtime/state/store/record_format.hpp"

#include "runtime/state/store/crc32c.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace cep::runtime::store::format {
namespace {

constexpr std::string_view kMetaMagic = "CEPSMETA";
constexpr std::uint32_t kMetaVersion = 1;

void putLe(std::string &out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
}

std::uint64_t getLe(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  return v;
}

void putBe64(std::string &out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
}

std::uint64_t getBe64(std::string_view in, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  }
  return v;
}

std::uint32_t valueCrc(Domain domain, std::uint64_t owner, std::string_view key,
                       std::uint64_t writer, std::string_view payload) {
  std::string head;
  head.push_back(static_cast<char>(domain));
  putLe(head, owner, 8);
  putLe(head, key.size(), 8);
  std::uint32_t crc = crc32c(0, head.data(), head.size());
  crc = crc32c(crc, key.data(), key.size());
  std::string w;
  putLe(w, writer, 8);
  crc = crc32c(crc, w.data(), w.size());
  return crc32c(crc, payload.data(), payload.size());
}

// Reads little-endian fields in order; `ok` turns false at the first read past the end.
struct Cursor {
  std::string_view in;
  std::size_t at = 0;
  bool ok = true;
  std::uint64_t take(int bytes) {
    if (!ok || in.size() - at < static_cast<std::size_t>(bytes)) {
      ok = false;
      return 0;
    }
    std::uint64_t v = getLe(in, at, bytes);
    at += bytes;
    return v;
  }
};

} // namespace

std::string encodeValue(Domain domain, std::uint64_t owner, std::string_view key,
                        std::uint64_t writer, std::string_view payload) {
  std::string out;
  out.reserve(kValueHeader + payload.size());
  putLe(out, valueCrc(domain, owner, key, writer, payload), 4);
  putLe(out, writer, 8);
  out.append(payload);
  return out;
}

bool decodeValue(Domain domain, std::uint64_t owner, std::string_view key, std::string_view stored,
                 DecodedValue &out, std::string &reason) {
  if (stored.size() < kValueHeader) {
    reason = std::to_string(stored.size()) + " bytes, shorter than a value header";
    return false;
  }
  auto crc = static_cast<std::uint32_t>(getLe(stored, 0, 4));
  out.writer = getLe(stored, 4, 8);
  out.payload = stored.substr(kValueHeader);
  if (crc != valueCrc(domain, owner, key, out.writer, out.payload)) {
    reason = "checksum mismatch";
    return false;
  }
  return true;
}

std::string undoPrefix(std::uint64_t checkpoint) {
  std::string out;
  putBe64(out, checkpoint);
  return out;
}

std::string undoMetaKey(std::uint64_t checkpoint) {
  std::string out = undoPrefix(checkpoint);
  out.push_back(static_cast<char>(UndoKind::Meta));
  return out;
}

std::string undoRecordKey(std::uint64_t checkpoint, std::uint64_t op, std::string_view key) {
  std::string out = undoPrefix(checkpoint);
  out.push_back(static_cast<char>(UndoKind::Record));
  putBe64(out, op);
  out.append(key);
  return out;
}

std::string undoArtifactKey(std::uint64_t checkpoint, std::string_view hash) {
  std::string out = undoPrefix(checkpoint);
  out.push_back(static_cast<char>(UndoKind::Artifact));
  out.append(hash);
  return out;
}

bool parseUndoKey(std::string_view bytes, UndoKey &out) {
  if (bytes.size() < 9) {
    return false;
  }
  out.checkpoint = getBe64(bytes, 0);
  auto kind = static_cast<unsigned char>(bytes[8]);
  switch (kind) {
  case static_cast<unsigned char>(UndoKind::Meta):
    out.kind = UndoKind::Meta;
    out.op = 0;
    out.key = {};
    return bytes.size() == 9;
  case static_cast<unsigned char>(UndoKind::Record):
    if (bytes.size() < 17) {
      return false;
    }
    out.kind = UndoKind::Record;
    out.op = getBe64(bytes, 9);
    out.key = bytes.substr(17);
    return true;
  case static_cast<unsigned char>(UndoKind::Artifact):
    out.kind = UndoKind::Artifact;
    out.op = 0;
    out.key = bytes.substr(9);
    return true;
  default:
    return false;
  }
}

std::string encodeUndo(std::string_view undo_key, std::optional<std::string_view> previous) {
  std::string body;
  body.push_back(previous ? 1 : 0);
  if (previous) {
    body.append(*previous);
  }
  std::uint32_t crc = crc32c(crc32c(0, undo_key.data(), undo_key.size()), body.data(), body.size());
  std::string out;
  out.reserve(4 + body.size());
  putLe(out, crc, 4);
  out.append(body);
  return out;
}

bool decodeUndo(std::string_view undo_key, std::string_view stored,
                std::optional<std::string_view> &previous, std::string &reason) {
  if (stored.size() < 5) {
    reason = "undo entry of " + std::to_string(stored.size()) + " bytes, shorter than its header";
    return false;
  }
  auto crc = static_cast<std::uint32_t>(getLe(stored, 0, 4));
  std::string_view body = stored.substr(4);
  if (crc != crc32c(crc32c(0, undo_key.data(), undo_key.size()), body.data(), body.size())) {
    reason = "undo entry checksum mismatch";
    return false;
  }
  if (body[0] == 0 && body.size() == 1) {
    previous.reset();
  } else if (body[0] == 1) {
    previous = body.substr(1);
  } else {
    reason = "undo entry with a bad presence byte";
    return false;
  }
  return true;
}

const OperatorEntry *MetaRecord::find(std::uint64_t op) const {
  auto it = std::lower_bound(operators.begin(), operators.end(), op,
                             [](const OperatorEntry &e, std::uint64_t id) { return e.id < id; });
  return it != operators.end() && it->id == op ? &*it : nullptr;
}

std::string encodeMeta(const MetaRecord &record) {
  std::string out(kMetaMagic);
  putLe(out, kMetaVersion, 4);
  putLe(out, record.checkpoint, 8);
  putLe(out, record.previous, 8);
  putLe(out, record.operators.size(), 4);
  for (const auto &op : record.operators) {
    putLe(out, op.id, 8);
    putLe(out, op.generation, 8);
    putLe(out, op.records, 8);
  }
  putLe(out, record.artifacts, 8);
  putLe(out, record.meta.size(), 8);
  out.append(record.meta);
  putLe(out, crc32c(0, out.data(), out.size()), 4);
  return out;
}

bool decodeMeta(std::string_view bytes, MetaRecord &out, std::string &reason) {
  if (bytes.size() < kMetaMagic.size() + 4 + 4 || bytes.substr(0, 8) != kMetaMagic) {
    reason =
        "meta record: not a meta record (bad magic or " + std::to_string(bytes.size()) + " bytes)";
    return false;
  }
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (static_cast<std::uint32_t>(getLe(bytes, bytes.size() - 4, 4)) !=
      crc32c(0, body.data(), body.size())) {
    reason = "meta record: checksum mismatch";
    return false;
  }
  Cursor c{body, kMetaMagic.size()};
  auto version = c.take(4);
  if (c.ok && version != kMetaVersion) {
    reason = "meta record: format version " + std::to_string(version) + ", this cep reads " +
             std::to_string(kMetaVersion);
    return false;
  }
  out = MetaRecord{};
  out.checkpoint = c.take(8);
  out.previous = c.take(8);
  auto count = c.take(4);
  for (std::uint64_t i = 0; c.ok && i < count; ++i) {
    OperatorEntry e;
    e.id = c.take(8);
    e.generation = c.take(8);
    e.records = c.take(8);
    if (!out.operators.empty() && out.operators.back().id >= e.id) {
      reason = "meta record: operator ids out of order";
      return false;
    }
    out.operators.push_back(e);
  }
  out.artifacts = c.take(8);
  auto length = c.take(8);
  if (!c.ok || body.size() - c.at != length) {
    reason = "meta record: its lengths disagree with its size";
    return false;
  }
  out.meta.assign(body.substr(c.at));
  return true;
}

std::string familyName(std::uint64_t op, std::uint64_t generation) {
  return "op-" + std::to_string(op) + "-" + std::to_string(generation);
}

bool parseFamilyName(std::string_view name, std::uint64_t &op, std::uint64_t &generation) {
  if (name.substr(0, 3) != "op-") {
    return false;
  }
  const char *p = name.data() + 3;
  const char *end = name.data() + name.size();
  auto r1 = std::from_chars(p, end, op);
  if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != '-') {
    return false;
  }
  auto r2 = std::from_chars(r1.ptr + 1, end, generation);
  return r2.ec == std::errc() && r2.ptr == end;
}

std::string printable(std::string_view key) {
  static const char *hex = "0123456789abcdef";
  std::string out = "\"";
  std::size_t shown = std::min<std::size_t>(key.size(), 60);
  for (std::size_t i = 0; i < shown; ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  out += "\"";
  if (shown < key.size()) {
    out += " (" + std::to_string(key.size()) + " bytes)";
  }
  return out;
}

} // namespace cep::runtime::store::format
