// `cep explain x.cepo`: what a compiled artifact holds (compiler/artifact/cepo.hpp): its header
// (versions, sources and their hash, target, opt level), the schema, each pattern's and each
// aggregate's image and the section sizes. `--no-host` leaves out what depends on the compiling
// machine (target, CPU, features, code sizes), so the output is the same everywhere.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "compiler/artifact/cepo.hpp"
#include "compiler/artifact/signing.hpp"
#include "runtime/aggregate/spec.hpp"
#include "runtime/native/aggregate_image.hpp"
#include "runtime/native/image_codec.hpp"

#include <iostream>
#include <string>
#include <vector>

namespace cep::cli {

namespace {

namespace native = runtime::native;

std::string joined(const std::vector<std::string> &items, const char *separator = ", ") {
  std::string s;
  for (const auto &item : items) {
    s += (s.empty() ? "" : separator) + item;
  }
  return s.empty() ? "none" : s;
}

std::string within(std::int64_t ms) {
  return ms == native::kNoBound ? "none" : std::to_string(ms) + " ms";
}

void printType(std::ostream &out, const runtime::EventSchema &type) {
  out << "  event " << type.name << " {";
  for (std::size_t i = 0; i < type.fields.size(); ++i) {
    const runtime::FieldSchema &f = type.fields[i];
    out << (i > 0 ? ", " : " ") << f.name << ": " << runtime::fieldKindName(f.kind)
        << (f.nullable ? "?" : "");
  }
  out << (type.fields.empty() ? "}" : " }");
  if (type.time_field >= 0) {
    out << " time " << type.fields[static_cast<std::size_t>(type.time_field)].name;
  }
  out << '\n';
}

void printShape(std::ostream &out, const char *label, const native::EmitShape &shape) {
  out << "  " << label << shape.stream << " {";
  for (std::size_t i = 0; i < shape.fields.size(); ++i) {
    out << (i > 0 ? ", " : " ") << shape.fields[i].name << ": "
        << native::valueKindName(shape.fields[i].kind);
  }
  out << (shape.fields.empty() ? "}" : " }") << '\n';
}

void printPattern(std::ostream &out, const runtime::Schema &schema, const native::PatternImage &p) {
  out << "pattern " << p.name << " (#" << p.index << ")\n";
  std::vector<std::string> types;
  for (std::uint32_t t : p.event_types) {
    types.push_back(schema.types[t].name);
  }
  out << "  stream        " << joined(types) << '\n';
  std::vector<std::string> steps;
  for (const native::StepInfo &s : p.steps) {
    steps.push_back(s.negated ? "not " + s.name : s.name);
  }
  out << "  steps         " << joined(steps) << '\n';
  out << "  skip          " << native::skipName(p.skip);
  if (p.skip_step >= 0) {
    out << ' ' << p.steps[static_cast<std::size_t>(p.skip_step)].name;
  }
  out << '\n';
  out << "  within        " << within(p.within_ms) << '\n';
  std::vector<std::string> keys;
  for (std::size_t t = 0; t < p.key_fields.size(); ++t) {
    if (p.key_fields[t].empty()) {
      continue;
    }
    std::vector<std::string> fields;
    for (std::int32_t f : p.key_fields[t]) {
      fields.push_back(schema.types[t].fields[static_cast<std::size_t>(f)].name);
    }
    keys.push_back(schema.types[t].name + "(" + joined(fields) + ")");
  }
  out << "  key           " << (p.keyed ? joined(keys) : "none") << '\n';
  out << "  max branches  " << p.max_branches << '\n';
  out << "  states        " << p.states.size() << ", start "
      << p.states[static_cast<std::size_t>(p.start)].name << '\n';
  for (const native::StateInfo &s : p.states) {
    out << "    " << s.name << ": " << native::stateKindName(s.kind);
    if (s.step >= 0) {
      out << ", step " << p.steps[static_cast<std::size_t>(s.step)].name;
    }
    if (s.within_ms != native::kNoBound) {
      out << ", within " << within(s.within_ms);
    }
    if (s.completes_at_end) {
      out << ", completes at end";
    }
    out << '\n';
  }
  printShape(out, "emit          ", p.emit);
  if (p.has_timeout_emit) {
    printShape(out, "timeout emit  ", p.timeout_emit);
  }
  out << "  symbols       step " << p.step_symbol << ", prefilter " << p.prefilter_symbol
      << ", key hash " << p.key_hash_symbol << ", key eq " << p.key_eq_symbol << '\n';
  for (const native::OutputField &f : p.emit.fields) {
    out << "    emit " << f.name << ": " << f.symbol << '\n';
  }
  if (p.has_timeout_emit) {
    for (const native::OutputField &f : p.timeout_emit.fields) {
      out << "    timeout emit " << f.name << ": " << f.symbol << '\n';
    }
  }
}

// An aggregate's image (runtime/native/aggregate_image.hpp).
void printAggregate(std::ostream &out, const runtime::Schema &schema,
                    const native::AggregateImage &a) {
  namespace agg = runtime::aggregate;
  const runtime::EventSchema &type = schema.types[a.event_type];
  out << "aggregate " << a.name << " (#" << a.index << ", operator " << a.operator_index << ")\n";
  out << "  step          " << a.step_name << ": " << type.name << '\n';
  std::vector<std::string> keys;
  for (std::int32_t f : a.key_fields) {
    keys.push_back(type.fields[static_cast<std::size_t>(f)].name);
  }
  out << "  key           " << joined(keys) << '\n';
  out << "  window        " << agg::windowKindName(a.spec.window) << ", size " << a.spec.size_ms
      << " ms, step " << a.spec.slide_ms << " ms, lateness " << a.spec.lateness_ms << " ms, ttl "
      << a.spec.ttl_ms << " ms\n";
  std::vector<std::string> computed;
  for (runtime::FieldKind k : a.computed) {
    computed.push_back(runtime::fieldKindName(k));
  }
  out << "  computed      " << joined(computed) << '\n';
  std::vector<std::string> accumulators;
  for (const agg::AccumulatorSpec &acc : a.spec.accumulators) {
    accumulators.push_back(
        std::string(agg::aggFnName(acc.fn)) +
        (acc.field < 0 ? "" : " " + acc.field_name + " (slot " + std::to_string(acc.field) + ")"));
  }
  out << "  accumulators  " << joined(accumulators) << '\n';
  printShape(out, "emit          ", a.emit);
  out << "  symbols       condition " << (a.condition_symbol.empty() ? "none" : a.condition_symbol)
      << ", having " << (a.having_symbol.empty() ? "none" : a.having_symbol) << ", rows "
      << joined(a.computed_symbols) << '\n';
  for (const native::OutputField &f : a.emit.fields) {
    out << "    emit " << f.name << ": " << f.symbol << '\n';
  }
}

} // namespace

int runExplainArtifact(const ExplainOptions &options) {
  if (options.stage_options_given) {
    std::cerr << "cep explain: --emit, --format, --no-positions, -O, --disable-pass and "
                 "--import-path apply to .cep files, not to a compiled artifact\n";
    return kUsage;
  }
  const std::string &path = options.files.front();
  compiler::artifact::Artifact a;
  try {
    a = compiler::artifact::readArtifactFile(path);
  } catch (const compiler::artifact::ArtifactError &e) {
    std::cerr << "cep explain: " << e.what() << '\n';
    return kRuleErrors;
  }
  std::vector<const native::PatternImage *> selected;
  std::vector<const native::AggregateImage *> selected_aggregates;
  std::vector<std::string> names;
  for (const native::PatternImage &p : a.patterns) {
    names.push_back(p.name);
    if (!options.pattern || *options.pattern == p.name) {
      selected.push_back(&p);
    }
  }
  for (const native::AggregateImage &g : a.aggregates) {
    names.push_back(g.name);
    if (!options.pattern || *options.pattern == g.name) {
      selected_aggregates.push_back(&g);
    }
  }
  if (options.pattern && selected.empty() && selected_aggregates.empty()) {
    std::cerr << "cep explain: no pattern `" << *options.pattern << "` in " << path
              << " (patterns: " << joined(names) << ")\n";
    return kUsage;
  }
  const compiler::artifact::Header &h = a.header;
  std::ostream &out = std::cout;
  out << "artifact        " << path << '\n';
  out << "format          " << h.format << '\n';
  out << "abi             " << h.abi << '\n';
  out << "cep version     " << h.cep_version << '\n';
  out << "sources         " << joined(h.sources) << '\n';
  out << "source sha256   " << compiler::artifact::hex(h.source_hash) << '\n';
  out << "source texts    "
      << (a.sources ? "included (cep run --trace and cep serve's traces can use them)"
                    : "not included (compiled with --no-sources or before cep kept them)")
      << '\n';
  if (options.host) {
    out << "target          " << h.target.triple << '\n';
    out << "cpu             " << h.target.cpu << '\n';
    out << "cpu features    " << h.target.features.size() << ": " << joined(h.target.features, " ")
        << '\n';
  }
  out << "opt level       " << static_cast<int>(h.opt_level) << '\n';
  out << "disabled passes " << joined(h.disabled_passes) << '\n';
  // Shown, not trusted: cep run --trust is what refuses other keys (the signature is valid, or
  // reading would have refused the artifact).
  out << "signature       "
      << (a.signature ? "Ed25519, key " + compiler::artifact::keyId(a.signature->key) : "none")
      << '\n';
  out << "sections       ";
  for (const compiler::artifact::SectionSize &s : a.sections) {
    bool code = s.id == compiler::artifact::SectionId::Header ||
                s.id == compiler::artifact::SectionId::Signature ||
                s.id == compiler::artifact::SectionId::Object ||
                s.id == compiler::artifact::SectionId::Bitcode;
    out << ' ' << compiler::artifact::sectionName(s.id);
    if (options.host || !code) {
      out << ' ' << s.size << " B";
    }
    out << (&s == &a.sections.back() ? "" : ",");
  }
  out << "\n\nschema (" << a.schema.types.size() << " event types)\n";
  for (const runtime::EventSchema &type : a.schema.types) {
    printType(out, type);
  }
  for (const native::PatternImage *p : selected) {
    out << '\n';
    printPattern(out, a.schema, *p);
  }
  for (const native::AggregateImage *g : selected_aggregates) {
    out << '\n';
    printAggregate(out, a.schema, *g);
  }
  return kOk;
}

} // namespace cep::cli
