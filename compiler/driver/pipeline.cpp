#include "compiler/driver/pipeline.hpp"

#include "compiler/artifact/aot.hpp"
#include "compiler/interp/aggregate_operator.hpp"
#include "compiler/interp/nfa_matcher.hpp"
#include "compiler/lower/lower_pattern.hpp"
#include "compiler/passes/pass_manager.hpp"
#include "compiler/schema_from_program.hpp"
#include "lang/frontend.hpp"
#include "runtime/native/native_aggregate.hpp"
#include "runtime/native/native_matcher.hpp"
#include "support/internal_error.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace cep::compiler::driver {

namespace {

// `path` relative to `base` (both made absolute), '/'-separated: the artifact never records
// where the rules were on the machine that compiled them.
std::string relativeName(const std::string &path, const std::filesystem::path &base) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec).lexically_normal();
  std::filesystem::path relative = absolute.lexically_relative(base);
  return (relative.empty() ? std::filesystem::path(path).filename() : relative).generic_string();
}

} // namespace

bool checkPassNames(const std::vector<std::string> &names, std::string &error) {
  passes::PassManager passes = passes::PassManager::standard();
  return passes.disableAll(names, error);
}

Pipeline::Pipeline(PipelineOptions options) : options_(std::move(options)), diags_(sources_) {}

bool Pipeline::parse(const std::vector<std::string> &paths) {
  paths_ = paths;
  modules_ = lang::parseFiles(paths, sources_, diags_, {options_.import_paths, {}});
  return !diags_.hasErrors();
}

bool Pipeline::check(const std::vector<std::string> &paths) {
  CEP_ASSERT(!program_, "Pipeline::check called twice");
  paths_ = paths;
  lang::Frontend frontend = lang::loadProgram(paths, sources_, diags_, {options_.import_paths, {}});
  modules_ = std::move(frontend.modules);
  program_ = std::move(frontend.program);
  return !diags_.hasErrors() && program_.has_value();
}

bool Pipeline::requireRunnable(Engine engine) {
  (void)engine; // both engines run aggregates
  bool ok = true;
  if (!ok || !program_) {
    return ok;
  }
  for (std::size_t i = 0; i < program_->aggregates.size(); ++i) {
    try {
      aggregate::planAggregate(*program_, static_cast<std::int32_t>(i));
    } catch (const std::length_error &e) {
      diags_.error(program_->aggregates[i].range, e.what());
      ok = false;
    }
  }
  return ok;
}

std::vector<aggregate::AggregatePlan> Pipeline::aggregatePlans() const {
  const lang::typed::Program &checked = program();
  std::vector<aggregate::AggregatePlan> plans = aggregate::planAggregates(checked);
  // Patterns and aggregates together in declaration order (file load order, then position):
  // the operator ids of docs/semantics.md §6.
  auto rank = [&](const lang::SourceRange &r) {
    std::size_t file = 0;
    while (file < modules_.size() && modules_[file].file != r.file) {
      ++file;
    }
    return std::pair<std::size_t, std::uint32_t>(file, r.begin);
  };
  std::vector<std::pair<std::pair<std::size_t, std::uint32_t>, std::int32_t>> all;
  for (const lang::typed::Pattern &p : checked.patterns) {
    all.emplace_back(rank(p.range), -1);
  }
  for (std::size_t i = 0; i < plans.size(); ++i) {
    all.emplace_back(rank(plans[i].decl->range), static_cast<std::int32_t>(i));
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const auto &a, const auto &b) { return a.first < b.first; });
  for (std::size_t position = 0; position < all.size(); ++position) {
    if (all[position].second >= 0) {
      plans[static_cast<std::size_t>(all[position].second)].operator_index =
          static_cast<std::int32_t>(position);
    }
  }
  return plans;
}

std::vector<std::string> Pipeline::ruleFiles() const {
  std::vector<std::string> files;
  for (const lang::ast::Module &module : modules_) {
    files.push_back(sources_.file(module.file).path());
  }
  return files;
}

const lang::typed::Program &Pipeline::program() const {
  CEP_ASSERT(program_.has_value(), "Pipeline::program before a successful check()");
  return *program_;
}

const runtime::Schema &Pipeline::schema() {
  return *sharedSchema();
}

std::shared_ptr<const runtime::Schema> Pipeline::sharedSchema() {
  if (!schema_) {
    schema_ = std::make_shared<const runtime::Schema>(schemaFromProgram(program()));
  }
  return schema_;
}

std::vector<nfa::Nfa> Pipeline::lower(const std::vector<int> &patterns, bool optimise) const {
  const lang::typed::Program &checked = program();
  passes::PassManager passes = passes::PassManager::standard();
  std::string error;
  CEP_ASSERT(passes.disableAll(options_.disabled_passes, error),
             "disabled passes not checked: " + error);
  std::vector<int> selected = patterns;
  if (selected.empty()) {
    for (std::size_t i = 0; i < checked.patterns.size(); ++i) {
      selected.push_back(static_cast<int>(i));
    }
  }
  std::vector<nfa::Nfa> nfas;
  for (int i : selected) {
    nfas.push_back(lowerPattern(checked, i));
    if (optimise) {
      passes.run(nfas.back());
    }
  }
  return nfas;
}

bool Pipeline::makeMatchers(const EngineOptions &engine,
                            const runtime::MatcherOptions &matcher_options, MatcherSet &set,
                            std::string &error) {
  const lang::typed::Program &checked = program();
  std::vector<nfa::Nfa> nfas = lower();
  if (engine.engine == Engine::Interp) {
    for (std::size_t i = 0; i < nfas.size(); ++i) {
      set.matchers.push_back(interp::makeInterpMatcher(checked, static_cast<std::int32_t>(i),
                                                       std::move(nfas[i]), matcher_options));
    }
    std::vector<std::pair<std::int32_t, std::unique_ptr<runtime::Matcher>>> aggregates;
    for (aggregate::AggregatePlan &plan : aggregatePlans()) {
      std::int32_t at = plan.operator_index;
      aggregates.emplace_back(
          at, interp::makeAggregateOperator(checked, std::move(plan), matcher_options));
    }
    set.matchers = runtime::native::placeOperators(std::move(set.matchers), std::move(aggregates));
    return true;
  }
  set.jit = jit::Jit::create(engine.opt_level, error);
  if (!set.jit) {
    return false;
  }
  jit::ModuleStats stats;
  std::optional<jit::LoadedProgram> loaded =
      set.jit->compileProgram(checked, nfas, stats, error, aggregatePlans());
  if (!loaded) {
    return false;
  }
  set.jit_stats.push_back(stats);
  std::shared_ptr<const runtime::Schema> shared = sharedSchema();
  for (std::size_t i = 0; i < loaded->images.size(); ++i) {
    set.matchers.push_back(runtime::native::makeNativeMatcher(shared, loaded->images[i],
                                                              loaded->code[i], matcher_options));
  }
  std::vector<std::pair<std::int32_t, std::unique_ptr<runtime::Matcher>>> aggregates;
  for (std::size_t i = 0; i < loaded->aggregates.size(); ++i) {
    aggregates.emplace_back(loaded->aggregates[i]->operator_index,
                            runtime::native::makeNativeAggregate(shared, loaded->aggregates[i],
                                                                 loaded->aggregate_code[i],
                                                                 matcher_options));
  }
  set.matchers = runtime::native::placeOperators(std::move(set.matchers), std::move(aggregates));
  return true;
}

bool Pipeline::compileArtifact(const ArtifactOptions &options, artifact::Artifact &out,
                               std::string &error) {
  const lang::typed::Program &checked = program();
  artifact::Header &header = out.header;
  header.cep_version = options.cep_version;
  std::error_code ec;
  std::filesystem::path base =
      std::filesystem::absolute(paths_.front(), ec).lexically_normal().parent_path();
  std::vector<artifact::NamedSource> named;
  for (const lang::ast::Module &module : modules_) {
    const lang::SourceFile &file = sources_.file(module.file);
    named.push_back({relativeName(file.path(), base), file.text()});
    header.sources.push_back(named.back().name);
  }
  header.source_hash = artifact::sourceHash(named);
  if (options.sources) {
    out.sources.emplace();
    for (const artifact::NamedSource &s : named) {
      out.sources->push_back({s.name, std::string(s.text)});
    }
  }
  header.disabled_passes = options_.disabled_passes;
  std::sort(header.disabled_passes.begin(), header.disabled_passes.end());
  header.disabled_passes.erase(
      std::unique(header.disabled_passes.begin(), header.disabled_passes.end()),
      header.disabled_passes.end());
  out.schema = schema();
  return artifact::compileProgram(checked, lower(), options.opt_level, out, error,
                                  aggregatePlans());
}

} // namespace cep::compiler::driver
