// The bytes the checkpoint store keeps in RocksDB, without RocksDB: value frames, undo-journal
// keys and entries, the meta record, column family names. `checkpoint_store.cpp` writes and
// reads them; README.md draws the layout. Integers are little-endian except in undo keys
// (big-endian, so RocksDB's bytewise order is checkpoint order).
//
//   std::string stored = encodeValue(Domain::Operator, 7, "card-1", 12, "state bytes");
//   DecodedValue v;
//   std::string reason;
//   decodeValue(Domain::Operator, 7, "card-1", stored, v, reason); // v.writer == 12
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::store::format {

// Keys of the default column family.
inline constexpr std::string_view kStoreKey = "store"; // -> kStoreMarker
inline constexpr std::string_view kMetaKey = "meta";   // -> the latest meta record
inline constexpr std::string_view kStoreMarker = "cep checkpoint store, format 1";
inline constexpr std::string_view kStoreMarkerPrefix = "cep checkpoint store, format ";

// Column families besides `default` and the operators' own ("op-<id>-<generation>").
inline constexpr std::string_view kUndoFamily = "undo";
inline constexpr std::string_view kArtifactFamily = "artifacts";

// What a checksummed value belongs to (part of its checksum: a value moved elsewhere fails).
enum class Domain : std::uint8_t { Operator = 1, Artifact = 2 };

// A stored value: u32 crc32c ‖ u64 writer (the checkpoint that wrote it) ‖ payload. The crc
// covers domain, owner (operator id; 0 for artifacts), key, writer and payload.
inline constexpr std::size_t kValueHeader = 12;
std::string encodeValue(Domain domain, std::uint64_t owner, std::string_view key,
                        std::uint64_t writer, std::string_view payload);
struct DecodedValue {
  std::uint64_t writer = 0;
  std::string_view payload; // points into the stored bytes
};
// False with `reason` ("checksum mismatch", "8 bytes, shorter than a value header").
bool decodeValue(Domain domain, std::uint64_t owner, std::string_view key, std::string_view stored,
                 DecodedValue &out, std::string &reason);

// Undo keys: be64 checkpoint ‖ u8 kind ‖ (Record: be64 operator ‖ key | Artifact: hash).
enum class UndoKind : std::uint8_t { Meta = 0, Record = 1, Artifact = 2 };
std::string undoPrefix(std::uint64_t checkpoint);
std::string undoMetaKey(std::uint64_t checkpoint);
std::string undoRecordKey(std::uint64_t checkpoint, std::uint64_t op, std::string_view key);
std::string undoArtifactKey(std::uint64_t checkpoint, std::string_view hash);
struct UndoKey {
  std::uint64_t checkpoint = 0;
  UndoKind kind = UndoKind::Meta;
  std::uint64_t op = 0;
  std::string_view key; // the record key or artifact hash; points into the undo key
};
bool parseUndoKey(std::string_view bytes, UndoKey &out);

// An undo entry: u32 crc32c (over the undo key and the rest) ‖ u8 present ‖ the previous
// stored bytes exactly (a value frame, or a meta record) when present.
std::string encodeUndo(std::string_view undo_key, std::optional<std::string_view> previous);
bool decodeUndo(std::string_view undo_key, std::string_view stored,
                std::optional<std::string_view> &previous, std::string &reason);

// The meta record: "CEPSMETA" ‖ u32 version (1) ‖ u64 checkpoint ‖ u64 previous checkpoint
// (0: none) ‖ u32 operator count ‖ per operator, ascending ids: u64 id, u64 generation, u64
// record count ‖ u64 artifact count ‖ u64 length ‖ the caller's meta bytes ‖ u32 crc32c of
// everything before it.
struct OperatorEntry {
  std::uint64_t id = 0;
  std::uint64_t generation = 0; // the checkpoint that created its column family
  std::uint64_t records = 0;
};
struct MetaRecord {
  std::uint64_t checkpoint = 0;
  std::uint64_t previous = 0;
  std::vector<OperatorEntry> operators; // ascending ids
  std::uint64_t artifacts = 0;
  std::string meta;
  const OperatorEntry *find(std::uint64_t op) const;
};
std::string encodeMeta(const MetaRecord &record);
bool decodeMeta(std::string_view bytes, MetaRecord &out, std::string &reason);

// "op-<id>-<generation>".
std::string familyName(std::uint64_t op, std::uint64_t generation);
bool parseFamilyName(std::string_view name, std::uint64_t &op, std::uint64_t &generation);

// A key for messages: quoted, bytes outside printable ASCII as \xNN, at most 60 bytes shown.
std::string printable(std::string_view key);

} // namespace cep::runtime::store::format
