// The cluster network as a graph (Boost.Graph adjacency_list): GPUs, NVSwitches, PCIe switches,
// NICs, leaf, spine and core switches as vertices; every physical link as two directed edges
// (one per direction) carrying bandwidth_bytes_per_s and latency_seconds.
//
// BuildTopology(hw, nodes) builds, from hw.node, hw.network and hw.fabric (models/hw/hardware.h):
//   node      gpus_per_node GPUs, each with an NVLink port to one NVSwitch vertex (an
//             aggregate of the node's NVSwitch chips; capacity node.scale_up per GPU and
//             direction) and a PCIe link to its PCIe switch (node.pcie). GPUs 0..g-1 of a
//             node share PCIe switch and NIC k = local / gpus_per_nic, g = gpus_per_nic.
//   NIC       PCIe switch <-> NIC edge and NIC <-> leaf edge at the NIC line rate,
//             gpus_per_nic * network.nic (network.nic is one GPU's share).
//   leaves    rail_optimized: NIC k of nodes [j*nodes_per_leaf, (j+1)*nodes_per_leaf) hangs on
//             leaf (rail k, group j); fat_tree: all NICs of those nodes hang on leaf j.
//   spine     2 tiers: one spine vertex (an aggregate of the spine switches, perfect ECMP: no
//             hash collisions); each leaf's uplink = its downlink bandwidth / oversubscription.
//             3 tiers: one spine vertex per pod of leaves_per_pod leaves and one core vertex;
//             pod uplink = (sum of its leaf uplinks) / oversubscription.
// Capacities used by the flow model are line rate * efficiency (LinkSpec::EffectiveBytesPerS):
// what a collective can reach, so a flow-level ring on idle links equals the analytical ring.
//
// Route(a, b) is the deterministic shortest path between two GPUs: same node over the NVSwitch;
// otherwise GPU -> PCIe switch -> NIC -> leaf [-> spine [-> core -> spine] -> leaf] -> NIC ->
// PCIe switch -> GPU (GPUDirect RDMA; NCCL's PXN rail-crossing over NVLink is not modelled, so
// on a rail-optimized fabric cross-rail traffic climbs to the spine). O(path length).
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "models/hw/hardware.h"

namespace foresight::hw {

enum class VertexKind : std::uint8_t { kGpu, kNvSwitch, kPcieSwitch, kNic, kLeaf, kSpine, kCore };
std::string_view VertexKindName(VertexKind kind);

struct TopoVertex {
  VertexKind kind = VertexKind::kGpu;
  std::int32_t node = -1;  // node index for node-local vertices, -1 for fabric switches
  std::int32_t index = 0;  // local index (GPU, NIC), leaf/spine number
};

struct TopoEdge {
  double bandwidth_bytes_per_s = 0;  // capacity used by the flow model (line * efficiency)
  double latency_seconds = 0;
  std::int32_t id = 0;  // dense edge number: index into Topology::Capacities()
};

using TopoGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, TopoVertex, TopoEdge>;
using TopoVertexId = boost::graph_traits<TopoGraph>::vertex_descriptor;

class Topology {
 public:
  const TopoGraph& graph() const { return graph_; }
  std::int32_t nodes() const { return nodes_; }
  std::int32_t gpus_per_node() const { return gpus_per_node_; }
  std::int32_t gpus() const { return nodes_ * gpus_per_node_; }
  std::int32_t edge_count() const { return static_cast<std::int32_t>(capacities_.size()); }
  // Capacity (bytes/s) of every directed edge, indexed by TopoEdge::id.
  const std::vector<double>& Capacities() const { return capacities_; }
  const std::vector<double>& Latencies() const { return latencies_; }

  TopoVertexId Gpu(std::int32_t global_gpu) const { return gpu_[global_gpu]; }
  TopoVertexId NvSwitch(std::int32_t node) const { return nvswitch_[node]; }
  // Edge ids of the path from GPU a to GPU b (global indices; a != b).
  std::vector<std::int32_t> Route(std::int32_t a, std::int32_t b) const;
  // Sum of the latencies of a path's edges (switch latencies).
  double PathLatencySeconds(const std::vector<std::int32_t>& path) const;
  // The edge id from u to v (they must be adjacent).
  std::int32_t EdgeId(TopoVertexId u, TopoVertexId v) const;

 private:
  friend Result<Topology> BuildTopology(const HardwareProfile& hw, std::int32_t nodes);
  std::int32_t AddLink(TopoVertexId u, TopoVertexId v, double bytes_per_s, double latency);

  TopoGraph graph_;
  std::int32_t nodes_ = 0;
  std::int32_t gpus_per_node_ = 0;
  std::int32_t gpus_per_nic_ = 1;
  std::int32_t tiers_ = 2;
  std::vector<double> capacities_;
  std::vector<double> latencies_;
  std::int32_t nics_per_node_ = 1;
  std::vector<TopoVertexId> gpu_;       // by global GPU
  std::vector<TopoVertexId> nvswitch_;  // by node
  // Edge ids. By global GPU: GPU->NVSwitch, NVSwitch->GPU, GPU->PCIe switch, PCIe->GPU.
  std::vector<std::int32_t> gpu_up_, gpu_down_, gpu_pcie_up_, gpu_pcie_down_;
  // By global NIC (node * nics_per_node + nic): PCIe->NIC, NIC->PCIe, NIC->leaf, leaf->NIC,
  // and the NIC's leaf number.
  std::vector<std::int32_t> nic_up_, nic_down_, nic_leaf_up_, nic_leaf_down_, leaf_of_nic_;
  // By leaf: leaf->spine, spine->leaf, pod. By pod (3 tiers): spine->core, core->spine.
  std::vector<std::int32_t> leaf_up_, leaf_down_, pod_of_leaf_, pod_up_, pod_down_;
};

// Builds the topology of `nodes` (>= 1) nodes of `hw` as described above. Errors: nodes < 1,
// gpus_per_nic not dividing gpus_per_node (or not derivable from nics_per_node).
Result<Topology> BuildTopology(const HardwareProfile& hw, std::int32_t nodes);

}  // namespace foresight::hw
