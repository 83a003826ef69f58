// Export of a compiled training step (plan::CompileStep) as Chakra execution traces.
//
// One Chakra graph per simulated rank of the step (one rank per pipeline stage: the TP peers and
// DP replicas it stands for are symmetric, docs/model.md). One node per engine task:
//   compute-stream tasks -> COMP_NODE: num_ops = FLOPs of its compute and optimizer kernels,
//       tensor_size = their HBM bytes (the TP all-reduces folded into a forward/backward task
//       are part of its duration only);
//   comm-stream tasks    -> COMM_COLL_NODE: comm_type from the op name (allreduce, allgather,
//       reduce_scatter), comm_size = buffer bytes, pg_name "dp.stage<S>" (group size dp,
//       written as the foresight attribute comm_group_size since the peers are not exported),
//       "tp.stage<S>" (size tp) or "embedding" (the first and last stage, size 2);
//   p2p-stream tasks     -> COMM_SEND_NODE to the stage that waits for it, plus a matching
//       COMM_RECV_NODE on that stage (comm_src/comm_dst = stage ranks, comm_tag unique per
//       message, pg_name "pp", duration = the send's), which the waiting task data-depends on.
// Node id = task id; receive nodes take ids num_tasks, num_tasks + 1, ... Data dependencies are
// the task's incoming edges plus its predecessor on the same stream (stream order), so a replay
// of the files keeps every ordering of the step. duration_micros = the task's simulated duration
// rounded to the nearest microsecond; is_cpu_op = false; the attribute foresight_stream names
// the stream. Nodes are written in id order. O(tasks + edges).
#pragma once

#include <vector>

#include "base/status.h"
#include "chakra/trace.h"
#include "plan/compile.h"

namespace foresight::chakra {

// `input` must be the StepInput `step` was compiled from. Fails (naming the task) on a task the
// mapping above cannot express: an unknown collective name, or a cross-rank edge that does not
// leave a p2p send.
Result<std::vector<RankTrace>> ExportStep(const plan::StepInput& input,
                                          const plan::CompiledStep& step);

}  // namespace foresight::chakra
