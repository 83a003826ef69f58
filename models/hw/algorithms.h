// Collective algorithms: analytical (alpha-beta) prices per algorithm and protocol, an
// NCCL-tuner-like automatic choice, and the decomposition of a collective into point-to-point
// flows over a Topology for the flow-level model (sim/flow.h).
//
// Notation: n ranks in the group, p = ranks per node, N = nodes (GroupSpan); S = bytes, the
// full buffer per rank (nccl-tests "size"); per link class (node.scale_up "up", network.nic
// "nic") B = bandwidth * efficiency (busbw) and alpha = latency_seconds, the per-step latency
// of the Simple protocol. Protocol P scales them: B_P = B * bw(P), alpha_P = alpha * lat(P),
// plus a base latency once per collective, base(A, P). Constants (NCCL src/graph/tuning.cc,
// as copied in NCCL's tuner-plugin example ext-tuner/example/nccl/tuner.h):
//   bw(P)      LL 0.5 (8-byte lines carry 4 data bytes and a flag), LL128 120/128 = 0.9375,
//              Simple 1
//   lat(P)     ring: NVLink hwLat {LL .6, LL128 1.9, Simple 3.4} / 3.4;
//              tree: {.6, 1.25, 28} / 3.4; NVLS: Simple only, 25 / 3.4
//   base(A,P)  ring {6.6, 14.0, 8.4} us, tree {6.8, 14.0, 0} us, NVLS 0
// Algorithms (T = base + latency steps + bytes term; "inter" uses alpha_nic when N > 1):
//   ring          all_reduce 2(n-1) steps, volume 2(n-1)/n; all_gather, reduce_scatter n-1
//                 steps, (n-1)/n; broadcast, reduce n-1 steps, volume 1 (pipelined chain);
//                 barrier = all_reduce of 0 bytes. Bytes term = volume * S / B_ring, with
//                 B_ring = B_up (N = 1), B_nic (p = 1), min(B_up, p * B_nic) otherwise: NCCL
//                 runs p channels whose node crossings use p different NICs. Steps cost
//                 alpha_nic when N > 1 (NCCL uses the network latency for every ring step).
//   tree          all_reduce, N > 1: double binary tree between nodes, chain inside a node;
//                 steps 2 * (ceil(log2 N) * alpha_nic + (p-1) * alpha_up), plus the pipeline
//                 fill below with 2 * (ceil(log2 N) + p - 1) stages; bytes term
//                 max(2(n-1)/n * S / B_up, V(N) * S / (p * B_nic)), V(N) = TreeNicVolume: the
//                 busiest node's NIC bytes in units of S (NCCL src/graph/trees.cc: two trees on
//                 half the data each; a node is interior in at most one, where it sends its half
//                 up once and down to two children, and a leaf in the other): 2 for N >= 3, 1
//                 for N = 2 (each node sends its half up one tree and down the other).
//   hierarchical  all_reduce, all_gather, reduce_scatter with p > 1 and N > 1: the sum of the
//                 phases of hw::CollectiveSeconds (intra-node ring reduce-scatter, p parallel
//                 inter-node rings on S/p, intra-node ring all-gather). Chosen only explicitly.
//   nvls          all_reduce with fabric.nvls and p > 1: the NVSwitch reduces (multimem), so
//                 each GPU sends S and receives S once: 2 steps * alpha_nvls + S / B_nvls,
//                 B_nvls = scale_up line rate * fabric.nvls_efficiency (the switch's reduction
//                 throughput); for N > 1 plus an inter-node double binary tree on S/p per
//                 local rank overlapped with it (NCCL's NVLS-tree, latency intraLat +
//                 2 * log2(nNodes) * interLat in src/graph/tuning.cc): + 2 ceil(log2 N)
//                 alpha_nic + the pipeline fill below with 2 * (ceil(log2 N) + 1) stages,
//                 bytes max(S / B_nvls, V(N) S / (p B_nic)) with the tree's V(N) above.
//   direct        all_to_all: hw::CollectiveSeconds' pairwise exchange (S/n to every peer);
//                 send_recv: S / B + alpha, B = up when N = 1 else nic (each rank sends S to
//                 the next and receives from the previous, as nccl-tests sendrecv_perf); across
//                 nodes, when fabric.p2p_channel_bytes_per_s b > 0, B = min(B_nic,
//                 c * b) with c = P2pChannelsForSend(S, P2pNetChannelsPerPeer(n), ...): NCCL
//                 gives one network peer only a few p2p channels, fewer in a larger
//                 communicator; inside a node, when fabric.p2p_nvlink_channel_bytes_per_s
//                 b' > 0, B = min(B_up, c' * b') with c' = P2pChannelsForSend over NVLink.
// Ring ramp (when fabric.ring_ramp_bytes_per_rank r > 0): NCCL runs a ring on fewer channels
// (thread blocks, each at a fixed share of the link) for small messages: its "Ring/Tree channel
// tuning" (NVIDIA/nccl src/enqueue.cc, topoGetAlgoInfo) lowers nc while
// nBytes < nc * nt * threadThreshold, where the ring's threadThreshold is
// NCCL_*_THREAD_THRESHOLD times nRanks (src/graph/tuning.cc). So the size from which all
// channels run grows with n, and below it the bytes term stays flat. Model: the ring's bytes
// term is divided by RingRamp = min(1, S / (n * r)), i.e. volume * max(S, n * r) / B. r is
// fitted per system by calibrate/validate_collectives.h (NCCL's own constants, nt = 512 and
// 64 bytes per thread for Simple with at most 64 channels, put r at <= 2 MiB, but the measured
// ramps also include NCCL's smaller chunks at mid sizes, so r is fitted, not derived); 0 (the
// default) leaves the model as it was. Tree, NVLS and the flow level (FlowsFor) have no ramp.
// Tree pipeline fill (when fabric.tree_pipeline_bytes F > 0): a tree is a pipeline of stages
// (the chain hops inside a node and the tree levels up and down between nodes); NCCL cuts the
// data into chunks (src/enqueue.cc calcCollChunking: tree Simple chunks of one step,
// buffSize / NCCL_STEPS = 512 KiB, per channel; NVLS-tree chunks of nvlsChunkSize), and the
// last chunk leaves the root only after the first has crossed every stage, so a tree adds
// stages * chunk / per-channel bandwidth to its alpha terms. Over all channels that is
// stages * min(S, F) / B_ring, F the bytes per rank in one stage (channels * chunk; a message
// smaller than F fills the pipeline with itself). F is fitted per system by
// calibrate/validate_collectives.h (NCCL's constants: 16 channels * 512 KiB = 8 MiB for tree
// Simple, 16 * 128 KiB = 2 MiB for NVLS-tree); 0 (the default) leaves the model without it.
// The same F serves every protocol (LL and LL128 have smaller chunks in NCCL; with one F they
// are priced as Simple's pipeline at their bandwidth). The flow level (FlowsFor) has neither the
// fill nor the p2p channel caps: it carries the latency part as a delay and the bytes on links.
// Launch (when fabric.collective_launch_seconds L > 0): every price (all algorithms, protocols
// and ops, send/recv and all-to-all included) adds L once to its latency part. NCCL's tuner
// prices each collective with a base latency (baseLat above, 6.6-14 us) that does not depend on
// the ranks; what one collective costs before its first step (kernel launch, the host's enqueue,
// the first flag exchange) is system dependent, so L, the part above NCCL's constant, is fitted
// per system by calibrate/validate_collectives.h. It does not change the auto choice between
// algorithms (all pay it).
// Auto: the (algorithm, protocol) pair of least time among ring, tree, nvls (where supported)
// for the op, direct for all_to_all and send_recv, as NCCL's tuner does (it prices every pair
// with its model and takes the fastest); hierarchical is never chosen automatically.
//
// Flow decomposition (FlowsFor): the algorithm and protocol chosen analytically; the latency
// part (base + steps) becomes the delay before the first flows of each group; the bytes part
// becomes flows on Topology routes, bytes divided by bw(P):
//   ring/tree     C channels (C = p when N > 1, else 1); channel c orders the members of each
//                 node rotated by c, nodes in group order, and sends volume * S / C from each
//                 member to the next (a chain without the wrap edge for broadcast/reduce).
//   hierarchical  three phases separated by a barrier: intra-node rings ((p-1)/p * S), p
//                 inter-node rings (2(N-1)/N * S/p for all_reduce, (N-1)/N * S/p otherwise),
//                 intra-node rings again (all_reduce only).
//   nvls          each GPU: S to its NVSwitch and S back (switch-local edges; scaled to run at
//                 B_nvls), and for N > 1 p inter-node rings (standing in for the trees) that
//                 carry the tree's V(N) * S/p per edge, all concurrent.
//   direct        all_to_all: S/n on the route of every ordered pair; send_recv: S from each
//                 rank to the next.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "models/hw/collective.h"
#include "models/hw/hardware.h"
#include "models/hw/topology.h"
#include "sim/flow.h"

namespace foresight::hw {

enum class NetOp : std::uint8_t {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kAllToAll,
  kSendRecv,
  kBroadcast,
  kReduce,
  kBarrier,
};
enum class Algorithm : std::uint8_t { kAuto, kRing, kTree, kHierarchical, kNvls, kDirect };
enum class Protocol : std::uint8_t { kLL, kLL128, kSimple };

std::string_view NetOpName(NetOp op);  // "all_reduce", ..., "alltoall", "sendrecv", "barrier"
std::string_view AlgorithmName(Algorithm algorithm);     // "auto", "ring", "tree", ...
std::string_view ProtocolName(Protocol protocol);        // "LL", "LL128", "Simple"
std::optional<NetOp> ParseNetOp(std::string_view name);  // also "all_to_all", "send_recv"
std::optional<Algorithm> ParseAlgorithm(std::string_view name);
NetOp NetOpOf(CollectiveOp op);

// nccl-tests bus-bandwidth factor: busbw = algbw * factor (doc/PERFORMANCE.md).
double BusBandwidthFactor(NetOp op, std::int32_t ranks);

struct Pricing {
  Algorithm algorithm = Algorithm::kRing;
  Protocol protocol = Protocol::kSimple;
  double latency_seconds = 0;  // base + steps
  double bytes_seconds = 0;    // bandwidth term
  double seconds() const { return latency_seconds + bytes_seconds; }
};

// Fraction of the full bandwidth a ring collective of `bytes` on `ranks` ranks gets:
// min(1, bytes / (ranks * ramp_bytes_per_rank)); 1 when ramp_bytes_per_rank <= 0 (see "Ring
// ramp" above).
double RingRamp(double bytes, std::int32_t ranks, double ramp_bytes_per_rank);

// NCCL's p2p channels per network peer for a communicator of `ranks` ranks (src/graph/paths.cc
// ncclTopoGetNchannels and ncclTopoComputeP2pChannels): c = max(1, ceil(local NIC line rate /
// 14 GB/s)) (NCCL_P2P_PER_CHANNEL_NET_BW), rounded up to a power of two, halved while
// c * ceil(ranks / 8) (NCCL_MAX_DEV_WORK_P2P_PER_BATCH) exceeds the p2p channel count P, so
// that every peer fits in one round. P = pow2Up(2 * nics_per_node), the collective channel count
// of NCCL's ring graph on a node with that many NICs (an assumption: two channels per NIC, as
// NCCL logs on DGX nodes show). The local NIC line rate is network.nic.bandwidth_bytes_per_s
// times the GPUs sharing it. Example: DGX H100 (50 GB/s, 8 NICs, P = 16): 16 ranks -> 4,
// 80 ranks -> 1.
std::int32_t P2pNetChannelsPerPeer(const HardwareProfile& hw, std::int32_t ranks);

// NCCL's channels for one send of `bytes` to one peer (src/enqueue.cc addP2pToPlan): the
// per-peer maximum `per_peer` halved while it times `ranks` exceeds `total` (the p2p channel
// count) gives the starting count, at most ceil(bytes / min_part); it doubles, up to
// `per_peer`, while bytes per channel exceed max_part. With the p2p chunk size C:
// min_part = C / 2, max_part = C across nodes; C / 8 and 32 C inside a node. NCCL's chunks:
// 128 KiB across nodes, 512 KiB over NVLink (inside a node the model takes per_peer = total =
// 32). Example, 8 ranks on one node: 64 MiB -> 4 channels of 16 MiB, 128 MiB -> 8,
// 512 MiB -> 32: so a send of 64 to 256 MiB moves 16 MiB per channel, a plateau in time.
std::int32_t P2pChannelsForSend(double bytes, std::int32_t per_peer, std::int32_t total,
                                std::int32_t ranks, double chunk_bytes, bool across_nodes);

// Pipeline fill of a pipelined tree (see "Tree pipeline fill" above): `stages` *
// min(bytes, pipeline_bytes) / bandwidth_bytes_per_s; 0 when pipeline_bytes <= 0.
double TreeFillSeconds(double bytes, double stages, double pipeline_bytes,
                       double bandwidth_bytes_per_s);

// Whether `algorithm` (not kAuto) can run `op` on `span` with `hw` (see above).
bool Supports(const HardwareProfile& hw, NetOp op, Algorithm algorithm, const GroupSpan& span);

// Analytical price of one collective. kAuto picks the fastest supported pair; an explicit
// algorithm takes its fastest protocol. A group of size 1 or 0 bytes (except barrier) costs 0.
// Error: an explicit algorithm that does not support the op/span (message says which do).
Result<Pricing> PriceCollective(const HardwareProfile& hw, NetOp op, double bytes,
                                const GroupSpan& span, Algorithm algorithm = Algorithm::kAuto);

// The span of a group of global GPU indices on nodes of `gpus_per_node` GPUs: size, nodes
// touched, and the largest number of members on one node.
GroupSpan SpanOfGroup(const std::vector<std::int64_t>& gpus, std::int32_t gpus_per_node);

// Flows of `pricing`'s algorithm for every group in `groups` (all run at the same time), on
// `topology` (see above). Each group's flows start after its latency_seconds.
// `nvls_scale` = scale_up.efficiency / fabric.nvls_efficiency: NVLS flows carry S * nvls_scale
// bytes on edges of capacity line * efficiency, i.e. S at line * nvls_efficiency.
std::vector<sim::FlowSpec> FlowsFor(const Topology& topology, NetOp op, double bytes,
                                    const Pricing& pricing,
                                    const std::vector<std::vector<std::int64_t>>& groups,
                                    double nvls_scale = 1.0);

// Flow-level time of `op` run by all `groups` at once: the algorithm chosen analytically for
// the first group's span (or `algorithm` when explicit), flows simulated by sim::SimulateFlows;
// the result's seconds() is the makespan, its bytes_seconds the makespan minus the latency.
Result<Pricing> FlowCollective(const HardwareProfile& hw, const Topology& topology, NetOp op,
                               double bytes, const std::vector<std::vector<std::int64_t>>& groups,
                               Algorithm algorithm = Algorithm::kAuto);

}  // namespace foresight::hw
