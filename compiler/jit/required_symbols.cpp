// The symbols an artifact's code must define (required_symbols.hpp).
#include "compiler/jit/required_symbols.hpp"

#include "compiler/jit/host_symbols.hpp"
#include "runtime/native/aggregate_codec.hpp"
#include "runtime/native/image_codec.hpp"

namespace cep::compiler::jit {

using runtime::native::AggregateImage;
using runtime::native::PatternImage;

std::vector<Required> requiredSymbols(const runtime::Schema &schema,
                                      const std::vector<PatternImage> &images,
                                      const std::vector<AggregateImage> &aggregates) {
  std::vector<Required> out;
  for (const PatternImage &p : images) {
    std::string owner = "pattern `" + p.name + "`: ";
    out.push_back({p.step_symbol, Need::Step, owner});
    out.push_back({p.prefilter_symbol, Need::Prefilter, owner});
    out.push_back({p.key_hash_symbol, Need::KeyHash, owner});
    out.push_back({p.key_eq_symbol, Need::KeyEq, owner});
    for (const auto &f : p.emit.fields) {
      out.push_back({f.symbol, Need::Value, owner});
    }
    if (p.has_timeout_emit) {
      for (const auto &f : p.timeout_emit.fields) {
        out.push_back({f.symbol, Need::Value, owner});
      }
    }
    out.push_back({runtime::native::imageFingerprintSymbol(p), Need::Fingerprint, owner,
                   runtime::native::imageFingerprint(schema, p)});
  }
  for (const AggregateImage &a : aggregates) {
    std::string owner = "aggregate `" + a.name + "`: ";
    if (!a.condition_symbol.empty()) {
      out.push_back({a.condition_symbol, Need::Test, owner});
    }
    for (const std::string &symbol : a.computed_symbols) {
      out.push_back({symbol, Need::Value, owner});
    }
    if (!a.having_symbol.empty()) {
      out.push_back({a.having_symbol, Need::Test, owner});
    }
    for (const auto &f : a.emit.fields) {
      out.push_back({f.symbol, Need::Value, owner});
    }
    out.push_back({runtime::native::aggregateFingerprintSymbol(a), Need::Fingerprint, owner,
                   runtime::native::aggregateFingerprint(schema, a)});
  }
  return out;
}

std::set<std::string, std::less<>> hostSymbolNames() {
  std::set<std::string, std::less<>> names;
  for (const auto &s : hostSymbols()) {
    names.insert(s.name);
  }
  return names;
}

} // namespace cep::compiler::jit
