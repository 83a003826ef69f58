#include "models/hw/algorithms.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "base/check.h"

namespace foresight::hw {
namespace {

constexpr std::array<Protocol, 3> kProtocols = {Protocol::kLL, Protocol::kLL128, Protocol::kSimple};
std::size_t P(Protocol p) { return static_cast<std::size_t>(p); }

// NCCL tuning constants (see the header for the source).
constexpr std::array<double, 3> kBandwidthFactor = {0.5, 120.0 / 128.0, 1.0};
constexpr std::array<double, 3> kRingLatencyRatio = {0.6 / 3.4, 1.9 / 3.4, 1.0};
// NCCL p2p defaults: NCCL_P2P_NET_CHUNKSIZE 128 KiB, NCCL_P2P_NVL_CHUNKSIZE 512 KiB (src/init.cc);
// p2p channels of an NVSwitch node: 32 (assumption: the collective channel count NCCL logs on
// DGX A100/H100 nodes, so p2pnChannels and the per-peer maximum are 32).
constexpr double kP2pNetChunkBytes = 131072;
constexpr double kP2pNvlinkChunkBytes = 524288;
constexpr std::int32_t kP2pNvlinkChannels = 32;
constexpr std::array<double, 3> kTreeLatencyRatio = {0.6 / 3.4, 1.25 / 3.4, 28.0 / 3.4};
constexpr double kNvlsLatencyRatio = 25.0 / 3.4;
constexpr std::array<double, 3> kRingBaseSeconds = {6.6e-6, 14.0e-6, 8.4e-6};
constexpr std::array<double, 3> kTreeBaseSeconds = {6.8e-6, 14.0e-6, 0.0};
struct Volume {
  double steps = 0;   // latency steps
  double factor = 0;  // bytes on the busiest link per rank, in units of S
};

Volume RingVolume(NetOp op, std::int32_t n) {
  switch (op) {
    case NetOp::kAllReduce:
    case NetOp::kBarrier:
      return {2.0 * (n - 1), 2.0 * (n - 1) / n};
    case NetOp::kAllGather:
    case NetOp::kReduceScatter:
      return {n - 1.0, (n - 1.0) / n};
    case NetOp::kBroadcast:
    case NetOp::kReduce:
      return {n - 1.0, 1.0};
    case NetOp::kAllToAll:
    case NetOp::kSendRecv:
      break;
  }
  return {};
}

// Bytes the busiest node sends over its NICs in a double binary tree all-reduce between
// `nodes` nodes, in units of the data the tree reduces (NCCL src/graph/trees.cc: two trees,
// each on half the data; a node is interior in at most one of them, where it sends its half
// up once and down to two children, and a leaf in the other, where it sends its half up):
// 2 for 3 nodes or more; 1 for 2 nodes (each node sends its half up in one tree and down in
// the other); 0 for one node.
double TreeNicVolume(std::int32_t nodes) { return nodes <= 1 ? 0.0 : nodes == 2 ? 1.0 : 2.0; }

double RingBandwidth(const HardwareProfile& hw, const GroupSpan& span, double factor) {
  const double up = hw.node.scale_up.EffectiveBytesPerS() * factor;
  const double nic = hw.network.nic.EffectiveBytesPerS() * factor;
  if (span.nodes <= 1) return up;
  if (span.ranks_per_node <= 1) return nic;
  return std::min(up, span.ranks_per_node * nic);
}

}  // namespace

double RingRamp(double bytes, std::int32_t ranks, double ramp_bytes_per_rank) {
  if (ramp_bytes_per_rank <= 0 || bytes <= 0 || ranks <= 0) return 1.0;
  return std::min(1.0, bytes / (ranks * ramp_bytes_per_rank));
}

namespace {

std::int32_t Pow2Up(std::int32_t x) {
  std::int32_t p = 1;
  while (p < x) p *= 2;
  return p;
}

}  // namespace

std::int32_t P2pNetChannelsPerPeer(const HardwareProfile& hw, std::int32_t ranks) {
  const std::int32_t nics = std::max(hw.network.nics_per_node, 1);
  const std::int32_t gpus_per_nic = hw.fabric.gpus_per_nic > 0
                                        ? hw.fabric.gpus_per_nic
                                        : std::max(hw.node.gpus_per_node / nics, 1);
  const double nic_line = hw.network.nic.bandwidth_bytes_per_s * gpus_per_nic;
  constexpr double kP2pPerChannelNetBytesPerS = 14e9;  // NCCL_P2P_PER_CHANNEL_NET_BW
  std::int32_t c = Pow2Up(std::max<std::int32_t>(
      1, static_cast<std::int32_t>(std::ceil(nic_line / kP2pPerChannelNetBytesPerS - 1e-9))));
  const std::int32_t total = Pow2Up(2 * nics);
  const std::int32_t rounds = (std::max(ranks, 1) + 7) / 8;
  while (c * rounds > total && c > 1) c /= 2;
  return c;
}

std::int32_t P2pChannelsForSend(double bytes, std::int32_t per_peer, std::int32_t total,
                                std::int32_t ranks, double chunk_bytes, bool across_nodes) {
  std::int32_t low = std::max(per_peer, 1);
  while (static_cast<double>(low) * ranks > total && low > 1) low /= 2;
  const double min_part = across_nodes ? chunk_bytes / 2 : chunk_bytes / 8;
  const double max_part = across_nodes ? chunk_bytes : chunk_bytes * 32;
  std::int32_t c =
      static_cast<std::int32_t>(std::min<double>(low, std::max(1.0, std::ceil(bytes / min_part))));
  double part = std::max(min_part, bytes / c);
  while (part > max_part && c <= per_peer / 2) {
    c *= 2;
    part = bytes / c;
  }
  return c;
}

double TreeFillSeconds(double bytes, double stages, double pipeline_bytes,
                       double bandwidth_bytes_per_s) {
  if (pipeline_bytes <= 0 || bytes <= 0 || stages <= 0 || bandwidth_bytes_per_s <= 0) return 0;
  return stages * std::min(bytes, pipeline_bytes) / bandwidth_bytes_per_s;
}

namespace {

// The price of PriceWith without fabric.collective_launch_seconds.
std::optional<Pricing> PriceBare(const HardwareProfile& hw, NetOp op, double bytes,
                                 const GroupSpan& span, Algorithm algorithm, Protocol protocol);

std::optional<Pricing> PriceWith(const HardwareProfile& hw, NetOp op, double bytes,
                                 const GroupSpan& span, Algorithm algorithm, Protocol protocol) {
  if (!Supports(hw, op, algorithm, span)) return std::nullopt;
  std::optional<Pricing> priced = PriceBare(hw, op, bytes, span, algorithm, protocol);
  if (priced) priced->latency_seconds += hw.fabric.collective_launch_seconds;
  return priced;
}

std::optional<Pricing> PriceBare(const HardwareProfile& hw, NetOp op, double bytes,
                                 const GroupSpan& span, Algorithm algorithm, Protocol protocol) {
  const std::size_t pi = P(protocol);
  const double bw = kBandwidthFactor[pi];
  const double alpha_up = hw.node.scale_up.latency_seconds;
  const double alpha_nic = hw.network.nic.latency_seconds;
  const double b_up = hw.node.scale_up.EffectiveBytesPerS() * bw;
  const double b_nic = hw.network.nic.EffectiveBytesPerS() * bw;
  const std::int32_t n = span.size;
  const std::int32_t p = span.ranks_per_node;
  const std::int32_t nodes = span.nodes;
  Pricing out{algorithm, protocol, 0, 0};
  const double s = op == NetOp::kBarrier ? 0.0 : bytes;
  switch (algorithm) {
    case Algorithm::kRing: {
      const Volume v = RingVolume(op, n);
      const double alpha = (nodes > 1 ? alpha_nic : alpha_up) * kRingLatencyRatio[pi];
      out.latency_seconds = kRingBaseSeconds[pi] + v.steps * alpha;
      out.bytes_seconds = v.factor * s / RingBandwidth(hw, span, bw) /
                          RingRamp(s, n, hw.fabric.ring_ramp_bytes_per_rank);
      return out;
    }
    case Algorithm::kTree: {
      const Volume v = RingVolume(NetOp::kAllReduce, n);
      const double depth = std::ceil(std::log2(static_cast<double>(nodes)));
      const double b_ring = RingBandwidth(hw, span, bw);
      out.latency_seconds =
          kTreeBaseSeconds[pi] +
          2.0 * (depth * alpha_nic + (p - 1) * alpha_up) * kTreeLatencyRatio[pi] +
          TreeFillSeconds(s, 2.0 * (depth + p - 1), hw.fabric.tree_pipeline_bytes, b_ring);
      out.bytes_seconds = std::max(v.factor * s / b_up, TreeNicVolume(nodes) * s / (p * b_nic));
      return out;
    }
    case Algorithm::kHierarchical: {
      if (protocol != Protocol::kSimple) return std::nullopt;
      const CollectiveOp cop = op == NetOp::kAllReduce   ? CollectiveOp::kAllReduce
                               : op == NetOp::kAllGather ? CollectiveOp::kAllGather
                                                         : CollectiveOp::kReduceScatter;
      // hw::CollectiveSeconds' phases; its latency part is its value at 0 bytes' slope-free
      // terms: evaluate the formula with and without bytes.
      const double total = CollectiveSeconds(hw, cop, s, span);
      const double tiny = CollectiveSeconds(hw, cop, 1e-30, span);
      out.latency_seconds = kRingBaseSeconds[pi] + tiny;
      out.bytes_seconds = total - tiny;
      return out;
    }
    case Algorithm::kNvls: {
      if (protocol != Protocol::kSimple) return std::nullopt;
      out.latency_seconds = 2.0 * alpha_up * kNvlsLatencyRatio;
      const double b_nvls = hw.node.scale_up.bandwidth_bytes_per_s * hw.fabric.nvls_efficiency;
      double bytes_seconds = s / b_nvls;
      if (nodes > 1) {
        const double depth = std::ceil(std::log2(static_cast<double>(nodes)));
        out.latency_seconds += 2.0 * depth * alpha_nic +
                               TreeFillSeconds(s, 2.0 * (depth + 1), hw.fabric.tree_pipeline_bytes,
                                               RingBandwidth(hw, span, bw));
        bytes_seconds = std::max(bytes_seconds, TreeNicVolume(nodes) * s / (p * b_nic));
      }
      out.bytes_seconds = bytes_seconds;
      return out;
    }
    case Algorithm::kDirect: {
      if (protocol != Protocol::kSimple) return std::nullopt;
      out.latency_seconds = kRingBaseSeconds[pi];
      if (op == NetOp::kSendRecv) {
        const LinkSpec& link = nodes <= 1 ? hw.node.scale_up : hw.network.nic;
        out.latency_seconds += link.latency_seconds;
        double b = link.EffectiveBytesPerS();
        if (nodes > 1 && hw.fabric.p2p_channel_bytes_per_s > 0) {
          const std::int32_t per_peer = P2pNetChannelsPerPeer(hw, n);
          const std::int32_t c =
              P2pChannelsForSend(s, per_peer, Pow2Up(2 * std::max(hw.network.nics_per_node, 1)), n,
                                 kP2pNetChunkBytes, true);
          b = std::min(b, c * hw.fabric.p2p_channel_bytes_per_s);
        } else if (nodes <= 1 && hw.fabric.p2p_nvlink_channel_bytes_per_s > 0) {
          const std::int32_t c = P2pChannelsForSend(s, kP2pNvlinkChannels, kP2pNvlinkChannels, n,
                                                    kP2pNvlinkChunkBytes, false);
          b = std::min(b, c * hw.fabric.p2p_nvlink_channel_bytes_per_s);
        }
        out.bytes_seconds = s / b;
        return out;
      }
      // all_to_all: hw::CollectiveSeconds' pairwise exchange.
      const double np = nodes <= 1 ? n : p;
      out.latency_seconds += (np - 1) * alpha_up + (n - np) * alpha_nic;
      out.bytes_seconds = std::max((np - 1) / n * s / b_up, (n - np) / n * s / b_nic);
      return out;
    }
    case Algorithm::kAuto:
      break;
  }
  return std::nullopt;
}

}  // namespace

std::string_view NetOpName(NetOp op) {
  switch (op) {
    case NetOp::kAllReduce:
      return "all_reduce";
    case NetOp::kAllGather:
      return "all_gather";
    case NetOp::kReduceScatter:
      return "reduce_scatter";
    case NetOp::kAllToAll:
      return "alltoall";
    case NetOp::kSendRecv:
      return "sendrecv";
    case NetOp::kBroadcast:
      return "broadcast";
    case NetOp::kReduce:
      return "reduce";
    case NetOp::kBarrier:
      return "barrier";
  }
  return "unknown";
}

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kAuto:
      return "auto";
    case Algorithm::kRing:
      return "ring";
    case Algorithm::kTree:
      return "tree";
    case Algorithm::kHierarchical:
      return "hierarchical";
    case Algorithm::kNvls:
      return "nvls";
    case Algorithm::kDirect:
      return "direct";
  }
  return "unknown";
}

std::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kLL:
      return "LL";
    case Protocol::kLL128:
      return "LL128";
    case Protocol::kSimple:
      return "Simple";
  }
  return "unknown";
}

std::optional<NetOp> ParseNetOp(std::string_view name) {
  for (NetOp op : {NetOp::kAllReduce, NetOp::kAllGather, NetOp::kReduceScatter, NetOp::kAllToAll,
                   NetOp::kSendRecv, NetOp::kBroadcast, NetOp::kReduce, NetOp::kBarrier}) {
    if (NetOpName(op) == name) return op;
  }
  if (name == "all_to_all") return NetOp::kAllToAll;
  if (name == "send_recv") return NetOp::kSendRecv;
  return std::nullopt;
}

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  for (Algorithm a : {Algorithm::kAuto, Algorithm::kRing, Algorithm::kTree,
                      Algorithm::kHierarchical, Algorithm::kNvls, Algorithm::kDirect}) {
    if (AlgorithmName(a) == name) return a;
  }
  return std::nullopt;
}

NetOp NetOpOf(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::kAllReduce:
      return NetOp::kAllReduce;
    case CollectiveOp::kAllGather:
      return NetOp::kAllGather;
    case CollectiveOp::kReduceScatter:
      return NetOp::kReduceScatter;
    case CollectiveOp::kSendRecv:
      return NetOp::kSendRecv;
    case CollectiveOp::kAllToAll:
      return NetOp::kAllToAll;
  }
  return NetOp::kAllReduce;
}

double BusBandwidthFactor(NetOp op, std::int32_t ranks) {
  const double n = ranks;
  switch (op) {
    case NetOp::kAllReduce:
      return 2.0 * (n - 1) / n;
    case NetOp::kAllGather:
    case NetOp::kReduceScatter:
    case NetOp::kAllToAll:
      return (n - 1) / n;
    case NetOp::kSendRecv:
    case NetOp::kBroadcast:
    case NetOp::kReduce:
    case NetOp::kBarrier:
      return 1.0;
  }
  return 1.0;
}

bool Supports(const HardwareProfile& hw, NetOp op, Algorithm algorithm, const GroupSpan& span) {
  const bool collective = op == NetOp::kAllReduce || op == NetOp::kAllGather ||
                          op == NetOp::kReduceScatter || op == NetOp::kBroadcast ||
                          op == NetOp::kReduce || op == NetOp::kBarrier;
  switch (algorithm) {
    case Algorithm::kRing:
      return collective;
    case Algorithm::kTree:
      return (op == NetOp::kAllReduce || op == NetOp::kBarrier) && span.nodes > 1;
    case Algorithm::kHierarchical:
      return (op == NetOp::kAllReduce || op == NetOp::kAllGather || op == NetOp::kReduceScatter) &&
             span.nodes > 1 && span.ranks_per_node > 1;
    case Algorithm::kNvls:
      return op == NetOp::kAllReduce && hw.fabric.nvls && span.ranks_per_node > 1;
    case Algorithm::kDirect:
      return op == NetOp::kAllToAll || op == NetOp::kSendRecv;
    case Algorithm::kAuto:
      return true;
  }
  return false;
}

Result<Pricing> PriceCollective(const HardwareProfile& hw, NetOp op, double bytes,
                                const GroupSpan& span, Algorithm algorithm) {
  FS_CHECK(bytes >= 0, "negative byte count");
  FS_CHECK(span.size >= 1 && span.ranks_per_node >= 1 && span.nodes >= 1,
           "group span needs size, ranks_per_node and nodes >= 1");
  if (algorithm != Algorithm::kAuto && !Supports(hw, op, algorithm, span)) {
    std::string valid;
    for (Algorithm a : {Algorithm::kRing, Algorithm::kTree, Algorithm::kHierarchical,
                        Algorithm::kNvls, Algorithm::kDirect}) {
      if (Supports(hw, op, a, span))
        valid += (valid.empty() ? "" : ", ") + std::string(AlgorithmName(a));
    }
    return Error::At(
        "", 0, 0,
        "algorithm '" + std::string(AlgorithmName(algorithm)) + "' cannot run " +
            std::string(NetOpName(op)) + " on " + std::to_string(span.size) + " ranks (" +
            std::to_string(span.nodes) + " nodes" +
            (algorithm == Algorithm::kNvls && !hw.fabric.nvls ? ", fabric.nvls is false" : "") +
            "); valid here: " + (valid.empty() ? "none" : valid) + " or auto");
  }
  Pricing zero{algorithm == Algorithm::kAuto ? Algorithm::kRing : algorithm, Protocol::kSimple, 0,
               0};
  if (span.size <= 1 || (bytes == 0 && op != NetOp::kBarrier)) return zero;
  std::vector<Algorithm> candidates;
  if (algorithm != Algorithm::kAuto) {
    candidates = {algorithm};
  } else if (op == NetOp::kAllToAll || op == NetOp::kSendRecv) {
    candidates = {Algorithm::kDirect};
  } else {
    candidates = {Algorithm::kRing, Algorithm::kTree, Algorithm::kNvls};
  }
  std::optional<Pricing> best;
  for (Algorithm a : candidates) {
    for (Protocol proto : kProtocols) {
      const std::optional<Pricing> price = PriceWith(hw, op, bytes, span, a, proto);
      if (price && (!best || price->seconds() < best->seconds())) best = price;
    }
  }
  FS_CHECK(best.has_value(), "no algorithm priced a supported collective");
  return *best;
}

GroupSpan SpanOfGroup(const std::vector<std::int64_t>& gpus, std::int32_t gpus_per_node) {
  std::map<std::int64_t, std::int32_t> per_node;
  for (std::int64_t g : gpus) ++per_node[g / gpus_per_node];
  std::int32_t most = 0;
  for (const auto& [node, count] : per_node) most = std::max(most, count);
  return GroupSpan{static_cast<std::int32_t>(gpus.size()), std::max(most, 1),
                   static_cast<std::int32_t>(std::max<std::size_t>(per_node.size(), 1))};
}

namespace {

// Builds the flows of one group; `root` is the index of its latency flow.
class FlowBuilder {
 public:
  FlowBuilder(const Topology& topology, std::vector<sim::FlowSpec>& flows)
      : topology_(topology), flows_(flows) {}

  std::int32_t Barrier(const std::vector<std::int32_t>& after, double delay_seconds) {
    sim::FlowSpec f;
    f.depends_on = after;
    f.delay = sim::SimTime::FromSeconds(delay_seconds);
    flows_.push_back(std::move(f));
    return static_cast<std::int32_t>(flows_.size()) - 1;
  }

  std::int32_t Send(std::int64_t from, std::int64_t to, double bytes, std::int32_t after) {
    sim::FlowSpec f;
    f.bytes = bytes;
    if (from != to) {
      f.links = topology_.Route(static_cast<std::int32_t>(from), static_cast<std::int32_t>(to));
      f.delay = sim::SimTime::FromSeconds(topology_.PathLatencySeconds(f.links));
    }
    f.depends_on = {after};
    flows_.push_back(std::move(f));
    return static_cast<std::int32_t>(flows_.size()) - 1;
  }

  std::int32_t OnEdge(std::int32_t edge, double bytes, std::int32_t after) {
    sim::FlowSpec f;
    f.bytes = bytes;
    f.links = {edge};
    f.depends_on = {after};
    flows_.push_back(std::move(f));
    return static_cast<std::int32_t>(flows_.size()) - 1;
  }

  // One ring (or chain) over `order`, `bytes` per edge.
  void Ring(const std::vector<std::int64_t>& order, double bytes, bool wrap, std::int32_t after,
            std::vector<std::int32_t>& out) {
    const std::size_t n = order.size();
    if (n < 2) return;
    for (std::size_t i = 0; i + (wrap ? 0 : 1) < n; ++i) {
      out.push_back(Send(order[i], order[(i + 1) % n], bytes, after));
    }
  }

 private:
  const Topology& topology_;
  std::vector<sim::FlowSpec>& flows_;
};

// Members grouped by node, nodes in order of first appearance.
std::vector<std::vector<std::int64_t>> ByNode(const std::vector<std::int64_t>& group,
                                              std::int32_t gpus_per_node) {
  std::vector<std::vector<std::int64_t>> nodes;
  std::vector<std::int64_t> ids;
  for (std::int64_t g : group) {
    const std::int64_t node = g / gpus_per_node;
    const auto it = std::find(ids.begin(), ids.end(), node);
    if (it == ids.end()) {
      ids.push_back(node);
      nodes.push_back({g});
    } else {
      nodes[static_cast<std::size_t>(it - ids.begin())].push_back(g);
    }
  }
  return nodes;
}

}  // namespace

std::vector<sim::FlowSpec> FlowsFor(const Topology& topology, NetOp op, double bytes,
                                    const Pricing& pricing,
                                    const std::vector<std::vector<std::int64_t>>& groups,
                                    double nvls_scale) {
  std::vector<sim::FlowSpec> flows;
  FlowBuilder b(topology, flows);
  const double s = (op == NetOp::kBarrier ? 0.0 : bytes) / kBandwidthFactor[P(pricing.protocol)];
  for (const std::vector<std::int64_t>& group : groups) {
    const std::int32_t root = b.Barrier({}, pricing.latency_seconds);
    const auto n = static_cast<std::int32_t>(group.size());
    if (n < 2 || s == 0) continue;
    const std::vector<std::vector<std::int64_t>> nodes = ByNode(group, topology.gpus_per_node());
    const auto node_count = static_cast<std::int32_t>(nodes.size());
    const auto p = static_cast<std::int32_t>(nodes.front().size());
    std::vector<std::int32_t> phase;
    switch (pricing.algorithm) {
      case Algorithm::kRing:
      case Algorithm::kTree:
      case Algorithm::kAuto: {
        const Volume v = RingVolume(op == NetOp::kBarrier ? NetOp::kAllReduce : op, n);
        const bool wrap = op != NetOp::kBroadcast && op != NetOp::kReduce;
        const std::int32_t channels = node_count > 1 ? p : 1;
        for (std::int32_t c = 0; c < channels; ++c) {
          std::vector<std::int64_t> order;
          for (const auto& members : nodes) {
            const auto m = static_cast<std::int32_t>(members.size());
            for (std::int32_t i = 0; i < m; ++i) order.push_back(members[(i + c) % m]);
          }
          b.Ring(order, v.factor * s / channels, wrap, root, phase);
        }
        break;
      }
      case Algorithm::kHierarchical: {
        const bool all_reduce = op == NetOp::kAllReduce;
        std::int32_t after = root;
        if (op != NetOp::kAllGather) {  // intra-node reduce-scatter
          for (const auto& members : nodes) {
            b.Ring(members, (p - 1.0) / p * s, true, after, phase);
          }
          after = b.Barrier(phase, 0);
          phase.clear();
        }
        const double inter = (all_reduce ? 2.0 : 1.0) * (node_count - 1.0) / node_count * s / p;
        for (std::int32_t j = 0; j < p; ++j) {
          std::vector<std::int64_t> order;
          for (const auto& members : nodes) {
            if (j < static_cast<std::int32_t>(members.size())) order.push_back(members[j]);
          }
          b.Ring(order, inter, true, after, phase);
        }
        if (op != NetOp::kReduceScatter) {  // intra-node all-gather
          after = b.Barrier(phase, 0);
          phase.clear();
          for (const auto& members : nodes) {
            b.Ring(members, (p - 1.0) / p * s, true, after, phase);
          }
        }
        break;
      }
      case Algorithm::kNvls: {
        for (const auto& members : nodes) {
          for (std::int64_t g : members) {
            const auto gpu = static_cast<std::int32_t>(g);
            const TopoVertexId v = topology.Gpu(gpu);
            const TopoVertexId sw = topology.NvSwitch(gpu / topology.gpus_per_node());
            // The edge runs at line * efficiency; NVLS moves S at line * nvls_efficiency.
            const double nvls_bytes = s * nvls_scale;
            b.OnEdge(topology.EdgeId(v, sw), nvls_bytes, root);
            b.OnEdge(topology.EdgeId(sw, v), nvls_bytes, root);
          }
        }
        if (node_count > 1) {
          for (std::int32_t j = 0; j < p; ++j) {
            std::vector<std::int64_t> order;
            for (const auto& members : nodes) {
              if (j < static_cast<std::int32_t>(members.size())) order.push_back(members[j]);
            }
            b.Ring(order, TreeNicVolume(node_count) * s / p, true, root, phase);
          }
        }
        break;
      }
      case Algorithm::kDirect: {
        if (op == NetOp::kSendRecv) {
          b.Ring(group, s, true, root, phase);
          break;
        }
        for (std::int32_t i = 0; i < n; ++i) {
          for (std::int32_t j = 0; j < n; ++j) {
            if (i != j) b.Send(group[i], group[j], s / n, root);
          }
        }
        break;
      }
    }
  }
  return flows;
}

Result<Pricing> FlowCollective(const HardwareProfile& hw, const Topology& topology, NetOp op,
                               double bytes, const std::vector<std::vector<std::int64_t>>& groups,
                               Algorithm algorithm) {
  if (groups.empty()) return Pricing{};
  for (const auto& group : groups) {
    for (std::int64_t g : group) {
      if (g < 0 || g >= topology.gpus()) {
        return Error::At("", 0, 0,
                         "group member GPU " + std::to_string(g) + " is outside the topology (" +
                             std::to_string(topology.gpus()) + " GPUs)");
      }
    }
  }
  const GroupSpan span = SpanOfGroup(groups.front(), topology.gpus_per_node());
  Result<Pricing> chosen = PriceCollective(hw, op, bytes, span, algorithm);
  if (!chosen.ok()) return chosen.error();
  Pricing pricing = *chosen;
  if (span.size <= 1 || (bytes == 0 && op != NetOp::kBarrier)) return pricing;
  if (op == NetOp::kAllToAll && static_cast<double>(span.size) * span.size * groups.size() > 4e6) {
    return Error::At("", 0, 0,
                     "flow model: all-to-all over " + std::to_string(groups.size()) +
                         " groups of " + std::to_string(span.size) +
                         " ranks needs more than 4 million flows; use the analytical model");
  }
  const std::vector<sim::FlowSpec> flows =
      FlowsFor(topology, op, bytes, pricing, groups,
               hw.node.scale_up.efficiency / hw.fabric.nvls_efficiency);
  const sim::FlowResult result = sim::SimulateFlows(topology.Capacities(), flows);
  const double makespan = result.makespan.ToSeconds();
  pricing.bytes_seconds = std::max(0.0, makespan - pricing.latency_seconds);
  return pricing;
}

}  // namespace foresight::hw
