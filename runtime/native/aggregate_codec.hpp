// The binary encoding of compiled aggregates (AggregateImage, runtime/native/aggregate_image.hpp)
// as stored in .cepo artifacts (compiler/artifact/cepo.hpp, section 7 "aggregates"), with the
// primitives of runtime/snapshot_codec.hpp (little-endian integers, u32-length strings):
//
//   u32 codec version (kAggregatesCodecVersion), u32 aggregate count, per aggregate
//   (declaration order): str name, i32 index, i32 operator index, u32 event type,
//   i32 field count, u32 n + n * i32 key field, u32 n + n * u8 computed slot kind (FieldKind),
//   str step name, u8 window kind, i64 size, i64 slide, i64 lateness, i64 ttl,
//   u32 n + n * accumulator (u8 function (AggFn), i32 row slot, str field name, u8 kind),
//   shape emit (as image_codec.hpp: str stream, u32 n + n * (str name, u8 ValueKind, str symbol)),
//   str condition symbol, u32 n + n * str computed symbol, str having symbol.
//
// Decoding checks every length, enum and index against the schema (the event type, its field
// count, key fields, row slots, at most runtime::kMaxFields row slots, one computed symbol per
// computed slot), the spec (runtime/aggregate/spec.hpp validateSpec) and that names are unique;
// bad bytes throw std::runtime_error "bad <what>: <reason>".
//
//   std::string bytes = encodeAggregates(images);
//   std::vector<AggregateImage> back = decodeAggregates(bytes, schema, "aggregates section");
//   std::uint64_t f = aggregateFingerprint(schema, back[0]);   // "cep.a0.image" in the module
//
// LLVM-free and lang-free.
#pragma once

#include "runtime/native/aggregate_image.hpp"
#include "runtime/schema.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cep::runtime::native {

constexpr std::uint32_t kAggregatesCodecVersion = 1;

std::string encodeAggregates(const std::vector<AggregateImage> &images);
std::vector<AggregateImage> decodeAggregates(std::string_view bytes, const Schema &schema,
                                             const std::string &what = "aggregate images");

// What binds an aggregate's image to its code, as imageFingerprint for patterns: FNV-1a 64 of
// the schema's encoding followed by the image's; the module defines it as a constant i64 global
// named aggregateFingerprintSymbol(image) ("cep.a<index>.image").
std::uint64_t aggregateFingerprint(const Schema &schema, const AggregateImage &image);
std::string aggregateFingerprintSymbol(const AggregateImage &image);

} // namespace cep::runtime::native
