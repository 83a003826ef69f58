// Reader for the `workload:` section (docs/chakra.md); internal to scenarios/.
//
//   workload:
//     chakra: traces/step      # PREFIX of PREFIX.0.et .. PREFIX.(ranks-1).et (required)
//     ranks: 8                 # rank files to replay (required)
//     compute: recorded        # recorded | roofline  (GPU kernels: recorded duration or roofline)
//     comm: model              # model | recorded     (collectives, send/recv, memory transfers)
//     control_deps: false      # also follow ctrl_deps
//     dtype: bf16              # bf16 | fp16 | fp32   (the peak the roofline uses)
//
// A workload scenario has no model, training or plan section (each is an error naming it); the
// cluster section still describes the hardware. A relative `chakra` prefix written in the file
// is relative to the file's directory (one given with --set, to the working directory).
#pragma once

#include <string>

#include "base/status.h"
#include "scenarios/internal/yaml_reader.h"
#include "scenarios/scenario.h"

namespace foresight::scenarios::internal {

Status ReadWorkload(ReadContext& context, const MapReader& top, const std::string& base_dir,
                    Scenario* scenario);

// After the cluster is resolved: workload.ranks must fit on nodes * gpus_per_node GPUs.
Status CheckWorkload(const ReadContext& context, const Scenario& scenario);

}  // namespace foresight::scenarios::internal
