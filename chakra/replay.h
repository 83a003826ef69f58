// Replay of Chakra execution traces on foresight's engine and hardware models.
//
// Task graph: for every rank, one stream per resource, created on first use:
//   cpu            nodes with is_cpu_op = true (any type): recorded duration_micros;
//   compute        GPU COMP_NODEs: recorded duration, or with ComputeTiming::kRoofline
//                  t = gpu.kernel_launch_seconds + max(num_ops / (peak(dtype) *
//                  gemm.max_efficiency),
//                      tensor_size / (hbm_bandwidth * memory_efficiency(tensor_size)))
//                  (models/hw/roofline.h; a node with neither num_ops nor tensor_size keeps its
//                  recorded duration and is counted in roofline_fallbacks);
//   memory         GPU MEM_LOAD/MEM_STORE nodes: tensor_size over PCIe, pcie.latency_seconds +
//                  bytes / (pcie bandwidth * efficiency), with CommTiming::kModel;
//   comm:<pg>      GPU COMM_COLL and COMM_SEND nodes of process group pg_name ("" when absent);
//   recv:<pg> from <src>  GPU COMM_RECV nodes of that group from rank src, in the order the
//                  sender issues them (so a pending receive never holds up a send or a receive
//                  from another peer);
//   sync:<pg>      one zero-duration barrier task per collective instance (owned by the first
//                  participant for reporting).
// INVALID and METADATA nodes are zero-duration no-ops on the cpu stream. Each stream issues its
// nodes in the rank graph's topological order (graph.h); a node waits for its dependencies.
//
// Collectives: the ranks that issue collectives on a pg_name are its participants; the k-th
// collective of the group on each participant is one instance (NCCL's in-order rule). Each
// participant posts a zero-duration "arrive" task on its comm stream; the instance's barrier
// waits for all arrivals and the collective tasks (one per participant) start when it ends, so
// they start together. Duration with CommTiming::kModel: hw::CollectiveSeconds(op, max comm_size
// over the participants, span), span.size = comm_group_size when given else the participant
// count, spread over the nodes of the participants (rank r sits on node r / gpus_per_node; a
// group larger than the ranks present takes hw::SpanOf(size, 1, gpus_per_node)). Op mapping:
// ALL_REDUCE -> all_reduce; ALL_GATHER, ALL_TO_ALL, GATHER, SCATTER -> all_gather volume;
// REDUCE_SCATTER(_BLOCK) -> reduce_scatter; BROADCAST, REDUCE -> all_gather of S*n/(n-1) (the
// pipelined ring time S/busbw + (n-1)*alpha); BARRIER -> 0 bytes. With kRecorded each task
// keeps its own recorded duration.
// Send/receive: a COMM_SEND (comm_dst, comm_tag) on rank s matches, in order, a COMM_RECV on
// rank comm_dst with comm_src = s and the same tag (absent tag = 0). Sends are eager: the
// send's data leaves when it is issued; the receive starts when both sides have been issued and
// both take hw::PointToPointSeconds(comm_size, same node) (kRecorded: their recorded durations).
//
// Errors name the rank file and node id: a collective count or comm_type mismatch between
// participants, a collective without comm_type/comm_size under kModel, an unmatched send or
// receive, a peer rank out of range, a task longer than 1e6 s or durations adding up past
// 9e6 s (corrupt attributes; SimTime spans +-106 days), an engine deadlock (issue orders that
// wait on each other).
// Cost: O((nodes + deps) log streams) plus the engine run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "base/status.h"
#include "chakra/graph.h"
#include "models/hw/hardware.h"
#include "sim/engine.h"
#include "sim/task_graph.h"

namespace foresight::chakra {

enum class ComputeTiming : std::uint8_t { kRecorded, kRoofline };
enum class CommTiming : std::uint8_t { kModel, kRecorded };

struct ReplayOptions {
  ComputeTiming compute = ComputeTiming::kRecorded;
  CommTiming comm = CommTiming::kModel;
  Dtype dtype = Dtype::kBf16;      // peak used by the roofline
  std::int32_t gpus_per_node = 8;  // rank placement: node = rank / gpus_per_node
};

enum class TaskRole : std::uint8_t { kNode, kArrive, kBarrier };

// What engine task t stands for (ReplayResult::tasks[graph.tag(t)]).
struct ReplayTask {
  TaskRole role = TaskRole::kNode;
  std::int32_t rank = 0;
  std::int32_t node = -1;  // index into the rank graph's trace.nodes; -1 for barriers
};

struct RankSummary {
  std::int32_t rank = 0;
  std::string file;
  std::int64_t nodes = 0;
  double end_s = 0;           // when the rank's last task ends
  double compute_s = 0;       // GPU compute stream busy
  double cpu_s = 0;           // cpu stream busy
  double comm_s = 0;          // union of communication time (collectives, send/recv)
  double exposed_comm_s = 0;  // communication while the compute stream is idle
  double memory_s = 0;        // memory stream busy
};

struct ReplayResult {
  double step_time_s = 0;  // end of the last task of any rank
  std::vector<RankSummary> ranks;
  std::int64_t num_nodes = 0;
  std::int64_t collective_instances = 0;
  std::int64_t point_to_point = 0;  // matched send/receive pairs
  std::int64_t roofline_fallbacks = 0;
  sim::TaskGraph graph;  // built
  sim::RunResult run;
  std::vector<ReplayTask> tasks;  // by task tag
};

// `graphs[r]` is rank r (trace.rank == r). Fails as described above; never aborts on bad input.
Result<ReplayResult> Replay(const std::vector<RankGraph>& graphs, const hw::HardwareProfile& hw,
                            const ReplayOptions& options);

}  // namespace foresight::chakra
