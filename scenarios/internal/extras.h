// Readers for the scenario keys used by sweeps and searches (internal to scenarios/):
// cluster.price_per_gpu_hour, cluster.candidates and training.tokens (docs/scenario-format.md).
//
// They run after the sections are read (sections.cc lists the keys as valid) and fill the
// Scenario fields of the same names. Every error names file:line:column, the dotted key (e.g.
// "cluster.candidates[1].nodes"), what was found and what was expected.
#pragma once

#include <string>

#include "base/status.h"
#include "scenarios/internal/yaml_reader.h"
#include "scenarios/scenario.h"

namespace foresight::scenarios::internal {

// Reads the optional keys above from the top-level mapping `top`. Candidate hardware named by a
// relative path is resolved against `base_dir` (the scenario file's directory; empty = the
// working directory), and each candidate's hardware is loaded (no cluster.overrides apply to
// candidates) and its gpus_per_node resolved (default: the hardware's) and checked.
Status ReadSearchExtras(ReadContext& context, const MapReader& top, const std::string& base_dir,
                        Scenario* scenario);

}  // namespace foresight::scenarios::internal
