#include "models/hw/collective.h"

#include <algorithm>

#include "base/check.h"

namespace foresight::hw {
namespace {

// Ring all-reduce of `bytes` over n ranks: 2(n-1)/n * S / busbw + 2(n-1) * alpha.
double RingAllReduce(const LinkSpec& link, std::int32_t n, double bytes) {
  if (n <= 1) return 0;
  const double steps = 2.0 * (n - 1);
  return steps / n * bytes / link.EffectiveBytesPerS() + steps * link.latency_seconds;
}

// Ring all-gather or reduce-scatter of a `bytes` buffer over n ranks:
// (n-1)/n * S / busbw + (n-1) * alpha.
double RingGatherOrScatter(const LinkSpec& link, std::int32_t n, double bytes) {
  if (n <= 1) return 0;
  const double steps = n - 1.0;
  return steps / n * bytes / link.EffectiveBytesPerS() + steps * link.latency_seconds;
}

double FlatRing(const LinkSpec& link, CollectiveOp op, std::int32_t n, double bytes) {
  return op == CollectiveOp::kAllReduce ? RingAllReduce(link, n, bytes)
                                        : RingGatherOrScatter(link, n, bytes);
}

// Direct all-to-all: S/n to each of the n-1 peers; intra-node and inter-node parts overlap.
double AllToAll(const LinkSpec& up, const LinkSpec& nic, const GroupSpan& span, double bytes) {
  const double n = span.size;
  const double p = span.nodes <= 1 ? n : span.ranks_per_node;
  const double intra = (p - 1) / n * bytes / up.EffectiveBytesPerS();
  const double inter = (n - p) / n * bytes / nic.EffectiveBytesPerS();
  return std::max(intra, inter) + (p - 1) * up.latency_seconds + (n - p) * nic.latency_seconds;
}

}  // namespace

std::string_view CollectiveOpName(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::kAllReduce:
      return "all_reduce";
    case CollectiveOp::kAllGather:
      return "all_gather";
    case CollectiveOp::kReduceScatter:
      return "reduce_scatter";
    case CollectiveOp::kSendRecv:
      return "send_recv";
    case CollectiveOp::kAllToAll:
      return "all_to_all";
  }
  return "unknown";
}

GroupSpan SpanOf(std::int32_t size, std::int64_t stride, std::int32_t gpus_per_node) {
  FS_CHECK(size >= 1 && stride >= 1 && gpus_per_node >= 1,
           "SpanOf needs size, stride and gpus_per_node >= 1");
  if (stride >= gpus_per_node) return GroupSpan{size, 1, size};
  // Members sit at ranks i * stride; stride < gpus_per_node touches every node in between.
  const auto nodes = static_cast<std::int32_t>((size - 1) * stride / gpus_per_node + 1);
  const std::int32_t ranks_per_node = (size + nodes - 1) / nodes;
  return GroupSpan{size, ranks_per_node, nodes};
}

double PointToPointSeconds(const HardwareProfile& hw, double bytes, bool same_node) {
  FS_CHECK(bytes >= 0, "negative byte count");
  if (bytes == 0) return 0;
  const LinkSpec& link = same_node ? hw.node.scale_up : hw.network.nic;
  return bytes / link.EffectiveBytesPerS() + link.latency_seconds;
}

double CollectiveSeconds(const HardwareProfile& hw, CollectiveOp op, double bytes,
                         const GroupSpan& span) {
  FS_CHECK(bytes >= 0, "negative byte count");
  FS_CHECK(span.size >= 1 && span.ranks_per_node >= 1 && span.nodes >= 1,
           "group span needs size, ranks_per_node and nodes >= 1");
  if (span.size <= 1 || bytes == 0) return 0;
  if (op == CollectiveOp::kSendRecv) return PointToPointSeconds(hw, bytes, span.nodes <= 1);

  const LinkSpec& up = hw.node.scale_up;
  const LinkSpec& nic = hw.network.nic;
  if (op == CollectiveOp::kAllToAll) return AllToAll(up, nic, span, bytes);
  if (span.nodes <= 1) return FlatRing(up, op, span.size, bytes);
  if (span.ranks_per_node <= 1) return FlatRing(nic, op, span.nodes, bytes);

  const std::int32_t p = span.ranks_per_node;
  const std::int32_t nodes = span.nodes;
  const double shard_bytes = bytes / p;
  switch (op) {
    case CollectiveOp::kAllReduce:
      return RingGatherOrScatter(up, p, bytes) + RingAllReduce(nic, nodes, shard_bytes) +
             RingGatherOrScatter(up, p, bytes);
    case CollectiveOp::kAllGather:
    case CollectiveOp::kReduceScatter:
      return RingGatherOrScatter(nic, nodes, shard_bytes) + RingGatherOrScatter(up, p, bytes);
    case CollectiveOp::kSendRecv:
    case CollectiveOp::kAllToAll:
      break;
  }
  return 0;
}

}  // namespace foresight::hw
