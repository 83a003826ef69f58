// Alpha-beta cost of collectives over a node's scale-up links and the scale-out NICs.
//
// Notation: n ranks; S bytes, the full buffer per rank (nccl-tests "size"); for a link,
// busbw = bandwidth_bytes_per_s * efficiency (LinkSpec::EffectiveBytesPerS) and alpha =
// latency_seconds (one ring step). Bus bandwidth follows nccl-tests (github.com/NVIDIA/
// nccl-tests, doc/PERFORMANCE.md): with algbw = S / time, busbw = algbw * 2(n-1)/n for
// all-reduce and algbw * (n-1)/n for all-gather and reduce-scatter. Hence, for a ring:
//   all_reduce:                  T_ar(n, S) = 2(n-1)/n * S / busbw + 2(n-1) * alpha
//   all_gather, reduce_scatter:  T_ag(n, S) = T_rs(n, S) = (n-1)/n * S / busbw + (n-1) * alpha
//   send_recv:                   T_p2p(S)   = S / busbw + alpha
// The 2(n-1) and (n-1) latency terms are the ring step counts of NCCL's own tuning model
// (NVIDIA/nccl src/graph/tuning.cc: latency += nsteps * hwLat).
//
// Placement (see GroupSpan), p = ranks_per_node, N = nodes:
//   N = 1            flat ring over node.scale_up, n = size
//   p = 1, N > 1     flat ring over network.nic, n = N
//   p > 1, N > 1     hierarchical ("up" = scale_up, "nic" = network.nic):
//     all_reduce     T_rs(p, S)|up + T_ar(N, S/p)|nic + T_ag(p, S)|up
//                    (intra-node reduce-scatter; p parallel inter-node rings, one per local
//                    rank, all-reduce its S/p shard over its NIC share; intra-node all-gather)
//     all_gather     T_ag(N, S/p)|nic + T_ag(p, S)|up
//     reduce_scatter T_rs(p, S)|up + T_rs(N, S/p)|nic
//   send_recv        T_p2p over scale_up when N = 1, else over the NIC
//   all_to_all       direct (pairwise) exchange, S = each rank's whole send buffer, S/n to
//                    every peer, all sends in flight at once; the intra-node and inter-node
//                    parts use different links and overlap:
//                    max((p-1)/n * S / busbw_up, (n-p)/n * S / busbw_nic)
//                      + (p-1) * alpha_up + (n-p) * alpha_nic      (n = p * N)
//                    nccl-tests: busbw = algbw * (n-1)/n.
// Every GPU is assumed to communicate at the same time (symmetric groups), so a rank gets its
// own scale-up bandwidth and its own NIC share, whatever the group size. A group of size 1 and
// a buffer of 0 bytes cost 0 (NCCL returns without launching).
//
// Valid for bandwidth-bound ring algorithms on a non-blocking fabric: no congestion, no tree,
// SHARP or NVLS (calibration folds what they change into efficiency and latency). O(1).
#pragma once

#include <cstdint>
#include <string_view>

#include "models/hw/hardware.h"

namespace foresight::hw {

enum class CollectiveOp : std::uint8_t {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kSendRecv,
  kAllToAll,
};
std::string_view CollectiveOpName(CollectiveOp op);

// How a communication group sits on the cluster.
struct GroupSpan {
  std::int32_t size = 1;            // ranks in the group
  std::int32_t ranks_per_node = 1;  // group members on each node it touches
  std::int32_t nodes = 1;           // nodes the group touches (size = ranks_per_node * nodes)
};

// Span of a group of `size` ranks whose members are `stride` apart in the global rank order,
// on nodes of `gpus_per_node` consecutive ranks (Megatron's tp-cp-ep-dp-pp order puts the TP
// group at stride 1, DP at stride tp, PP at stride tp*dp). For the group that starts at rank 0:
//   stride >= gpus_per_node:  ranks_per_node = 1, nodes = size      (one member per node)
//   otherwise:                nodes = floor((size-1) * stride / gpus_per_node) + 1,
//                             ranks_per_node = ceil(size / nodes)
// (a group that does not fill a node has nodes = 1, ranks_per_node = size). Exact for every
// group when stride divides gpus_per_node and stride*size divides gpus_per_node or is a
// multiple of it (all power-of-two layouts); otherwise groups may straddle nodes unevenly and
// this is the first group's span. Requires size, stride, gpus_per_node >= 1. O(1).
GroupSpan SpanOf(std::int32_t size, std::int64_t stride, std::int32_t gpus_per_node);

// Seconds for one collective of `bytes` (>= 0; the full buffer per rank, nccl-tests "size")
// by the equations above. A group of size 1 costs 0.
double CollectiveSeconds(const HardwareProfile& hw, CollectiveOp op, double bytes,
                         const GroupSpan& span);

// Seconds for a point-to-point transfer of `bytes` (>= 0) between two ranks: T_p2p over the
// scale-up link when same_node, else over the NIC; 0 bytes cost 0.
double PointToPointSeconds(const HardwareProfile& hw, double bytes, bool same_node);

}  // namespace foresight::hw
