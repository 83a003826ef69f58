// Alpha-beta cost of collectives over a node's scale-up links and the scale-out NICs.
//
// Bus-bandwidth conventions follow nccl-tests (doc/PERFORMANCE.md): for n ranks and S bytes,
//   all_reduce:      time = 2(n-1)/n * S / busbw  + 2(n-1) * alpha   (ring)
//   all_gather, reduce_scatter: time = (n-1)/n * S / busbw + (n-1) * alpha  (S = full buffer)
//   send_recv:       time = S / bw + alpha
// A group that spans several nodes runs hierarchically: intra-node reduce-scatter, inter-node
// ring all-reduce over the NIC share of each GPU on S / ranks_per_node bytes, intra-node
// all-gather. A group with one rank per node is a flat ring over the NICs.
#pragma once

#include <cstdint>
#include <string_view>

#include "models/hw/hardware.h"

namespace foresight::hw {

enum class CollectiveOp : std::uint8_t { kAllReduce, kAllGather, kReduceScatter, kSendRecv };
std::string_view CollectiveOpName(CollectiveOp op);

// How a communication group sits on the cluster.
struct GroupSpan {
  std::int32_t size = 1;            // ranks in the group
  std::int32_t ranks_per_node = 1;  // group members on each node it touches
  std::int32_t nodes = 1;           // nodes the group touches (size = ranks_per_node * nodes)
};

// Span of a group of `size` ranks whose members are `stride` apart in the global rank order,
// on nodes of `gpus_per_node` consecutive ranks (Megatron's tp-cp-ep-dp-pp order puts the TP
// group at stride 1, DP at stride tp, PP at stride tp*dp).
GroupSpan SpanOf(std::int32_t size, std::int64_t stride, std::int32_t gpus_per_node);

// Seconds for one collective of `bytes` (the full buffer per rank, nccl-tests "size").
// A group of size 1 costs 0.
double CollectiveSeconds(const HardwareProfile& hw, CollectiveOp op, double bytes,
                         const GroupSpan& span);

// Seconds for a point-to-point transfer of `bytes` between two ranks (same node: scale-up link,
// else the NIC).
double PointToPointSeconds(const HardwareProfile& hw, double bytes, bool same_node);

}  // namespace foresight::hw
