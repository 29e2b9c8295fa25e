// The binary encoding of a runtime Schema and of compiled patterns (PatternImage), as stored in
// .cepo artifacts (compiler/artifact/cepo.hpp). Built on the snapshot codec's primitives
// (runtime/snapshot_codec.hpp: little-endian integers, u32-length strings).
//
// Each encoding starts with its own u32 codec version (kImageCodecVersion). Then:
//   schema  = u32 type count, per type: str name, i32 time_field, u32 field count, per field:
//             str name, u8 kind (FieldKind), u8 nullable (0 or 1)
//   images  = u32 pattern count, per pattern (PatternImage, in declaration order):
//             str name, i32 index, u32 n + n * u32 event_types,
//             u32 n + n * step (str name, u8 negated),
//             u32 n + n * state (str name, u8 kind, i32 step, i64 within_ms, u8 completes_at_end),
//             i32 start, i64 within_ms, u8 skip, i32 skip_step,
//             u8 keyed, u32 n + n * (u32 m + m * i32 field),
//             shape emit, u8 has_timeout_emit, shape timeout_emit, u32 max_branches,
//             str step_symbol, str prefilter_symbol, str key_hash_symbol, str key_eq_symbol
//   shape   = str stream, u32 n + n * field (str name, u8 kind (ValueKind), str symbol)
// Images version 2 append to each pattern: u32 n (its step count) + n * i32 step event type
// (StepInfo::event_type). Version 1 images are still read (step event types -1: unknown).
//
// Decoding checks every length, enum value and index (types, fields, steps, states) against
// what it refers to, so a matcher can trust a decoded image. Bad bytes throw
// std::runtime_error "bad <what>: <exact reason>"; nothing is trusted before it is checked.
//
// LLVM-free and lang-free.
#pragma once

#include "runtime/native/image.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::native {

// Bumped on any change of the encodings above (an artifact's format version covers it too).
// The schema's encoding; the images' (kImagesCodecVersion, 2: steps' event types; 1 still read).
constexpr std::uint32_t kImageCodecVersion = 1;
constexpr std::uint32_t kImagesCodecVersion = 2;
constexpr std::uint32_t kImagesOldestCodecVersion = 1;

std::string encodeSchema(const Schema &schema);
// `what` names the bytes in errors ("schema section").
Schema decodeSchema(std::string_view bytes, const std::string &what = "schema");

std::string encodeImages(const std::vector<PatternImage> &images);
// Images refer to `schema`'s types and fields by index: checked here.
std::vector<PatternImage> decodeImages(std::string_view bytes, const Schema &schema,
                                       const std::string &what = "pattern images");

// What binds an image to the code compiled with it: FNV-1a 64 of the schema's encoding
// (encodeSchema: the code reads events by the schema's field layout) followed by the image's
// (one image, as encodeImages writes it). The module defines it as a constant i64 global named
// imageFingerprintSymbol(image) (compiler/jit/host_target.cpp buildProgramModule); loading an
// artifact refuses an image whose fingerprint differs from its code's
// (compiler/jit/verify_code.hpp), so an image edited apart from its code (fewer states or branches
// than the code writes, other emit value kinds, other field kinds in the schema) never reaches the
// native matcher.
std::uint64_t imageFingerprint(const Schema &schema, const PatternImage &image);
std::string imageFingerprintSymbol(const PatternImage &image); // step symbol + ".image"

// Names for printing (`cep explain x.cepo`).
const char *stateKindName(StateKind k); // "normal", "final", "stop", "pending"
const char *skipName(Skip s);           // "none", "past last", "to next", "to first", "to last"
const char *valueKindName(ValueKind k); // "null", "bool", "int", ...

} // namespace cep::runtime::native
