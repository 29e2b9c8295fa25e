// The rule files an artifact carries (its optional sources section, compiler/artifact/cepo.hpp)
// checked again into a pipeline, for the shadow interpreter of a trace (`cep run X.cepo
// --trace`, docs/debugging.md). The files are written under a fresh temporary folder with their
// recorded relative names (a name leading out of the first file's folder, `../common.cep`, stays
// inside it), every file's folder is an import path (the artifact does not record
// --import-path), the files are checked in load order, and the folder is removed again.
#pragma once

#include "compiler/artifact/cepo.hpp"
#include "compiler/driver/pipeline.hpp"

#include <memory>
#include <string>
#include <vector>

namespace cep::cli {

// A pipeline that checked `sources` with `disabled_passes` (the artifact's), or null with
// `error`: why not (no sources, a file that cannot be written, the rules' diagnostics).
std::unique_ptr<compiler::driver::Pipeline>
checkArtifactSources(const std::optional<std::vector<compiler::artifact::SourceText>> &sources,
                     const std::vector<std::string> &disabled_passes, std::string &error);

} // namespace cep::cli
