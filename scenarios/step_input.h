// The plan::StepInput of a loaded scenario, with the collective pricer of its `network:`
// section (models/hw/comm_pricer.h): none for the default analytical/auto model. Errors: the
// pricer cannot be built (placement that does not fill the cluster, unbuildable topology).
#pragma once

#include "base/status.h"
#include "plan/compile.h"
#include "scenarios/scenario.h"

namespace foresight::scenarios {

Result<plan::StepInput> StepInputOf(const Scenario& s);

}  // namespace foresight::scenarios
