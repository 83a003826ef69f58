#include "models/hw/topology.h"

#include <utility>

#include "base/check.h"

namespace foresight::hw {

std::string_view VertexKindName(VertexKind kind) {
  switch (kind) {
    case VertexKind::kGpu:
      return "gpu";
    case VertexKind::kNvSwitch:
      return "nvswitch";
    case VertexKind::kPcieSwitch:
      return "pcie_switch";
    case VertexKind::kNic:
      return "nic";
    case VertexKind::kLeaf:
      return "leaf";
    case VertexKind::kSpine:
      return "spine";
    case VertexKind::kCore:
      return "core";
  }
  return "unknown";
}

std::int32_t Topology::AddLink(TopoVertexId u, TopoVertexId v, double bytes_per_s, double latency) {
  // Two directed edges; returns the id of u -> v (v -> u is id + 1).
  const auto id = static_cast<std::int32_t>(capacities_.size());
  boost::add_edge(u, v, TopoEdge{bytes_per_s, latency, id}, graph_);
  boost::add_edge(v, u, TopoEdge{bytes_per_s, latency, id + 1}, graph_);
  capacities_.push_back(bytes_per_s);
  capacities_.push_back(bytes_per_s);
  latencies_.push_back(latency);
  latencies_.push_back(latency);
  return id;
}

std::int32_t Topology::EdgeId(TopoVertexId u, TopoVertexId v) const {
  const auto [edge, found] = boost::edge(u, v, graph_);
  FS_CHECK(found, "EdgeId: vertices are not adjacent");
  return graph_[edge].id;
}

std::vector<std::int32_t> Topology::Route(std::int32_t a, std::int32_t b) const {
  FS_CHECK(a != b && a >= 0 && b >= 0 && a < gpus() && b < gpus(), "Route needs two GPUs");
  const std::int32_t node_a = a / gpus_per_node_;
  const std::int32_t node_b = b / gpus_per_node_;
  if (node_a == node_b) return {gpu_up_[a], gpu_down_[b]};
  const std::int32_t nic_a = node_a * nics_per_node_ + (a % gpus_per_node_) / gpus_per_nic_;
  const std::int32_t nic_b = node_b * nics_per_node_ + (b % gpus_per_node_) / gpus_per_nic_;
  std::vector<std::int32_t> path = {gpu_pcie_up_[a], nic_up_[nic_a], nic_leaf_up_[nic_a]};
  const std::int32_t leaf_a = leaf_of_nic_[nic_a];
  const std::int32_t leaf_b = leaf_of_nic_[nic_b];
  if (leaf_a != leaf_b) {
    path.push_back(leaf_up_[leaf_a]);
    if (tiers_ == 3 && pod_of_leaf_[leaf_a] != pod_of_leaf_[leaf_b]) {
      path.push_back(pod_up_[pod_of_leaf_[leaf_a]]);
      path.push_back(pod_down_[pod_of_leaf_[leaf_b]]);
    }
    path.push_back(leaf_down_[leaf_b]);
  }
  path.push_back(nic_leaf_down_[nic_b]);
  path.push_back(nic_down_[nic_b]);
  path.push_back(gpu_pcie_down_[b]);
  return path;
}

double Topology::PathLatencySeconds(const std::vector<std::int32_t>& path) const {
  double seconds = 0;
  for (std::int32_t e : path) seconds += latencies_[e];
  return seconds;
}

Result<Topology> BuildTopology(const HardwareProfile& hw, std::int32_t nodes) {
  if (nodes < 1)
    return Error::At("", 0, 0, "topology needs at least 1 node, found " + std::to_string(nodes));
  const FabricSpec& fabric = hw.fabric;
  const std::int32_t g = hw.node.gpus_per_node;
  std::int32_t per_nic = fabric.gpus_per_nic;
  if (per_nic == 0) {
    if (hw.network.nics_per_node >= g) {
      per_nic = 1;
    } else if (g % hw.network.nics_per_node == 0) {
      per_nic = g / hw.network.nics_per_node;
    } else {
      return Error::At("", 0, 0,
                       "cannot derive fabric.gpus_per_nic: network.nics_per_node (" +
                           std::to_string(hw.network.nics_per_node) +
                           ") does not divide node.gpus_per_node (" + std::to_string(g) +
                           "); set fabric.gpus_per_nic");
    }
  }
  if (g % per_nic != 0) {
    return Error::At("", 0, 0,
                     "fabric.gpus_per_nic (" + std::to_string(per_nic) +
                         ") must divide node.gpus_per_node (" + std::to_string(g) + ")");
  }
  const bool rail = fabric.topology == "rail_optimized";
  Topology t;
  t.nodes_ = nodes;
  t.gpus_per_node_ = g;
  t.gpus_per_nic_ = per_nic;
  t.tiers_ = fabric.tiers;
  t.nics_per_node_ = g / per_nic;
  const std::int32_t nics = t.nics_per_node_;
  const double up = hw.node.scale_up.EffectiveBytesPerS();
  const double pcie = hw.node.pcie.EffectiveBytesPerS();
  const double nic_rate = hw.network.nic.EffectiveBytesPerS() * per_nic;
  const double sw = fabric.switch_latency_seconds;
  auto& graph = t.graph_;

  const std::int32_t groups = (nodes + fabric.nodes_per_leaf - 1) / fabric.nodes_per_leaf;
  const std::int32_t leaf_count = rail ? groups * nics : groups;
  std::vector<TopoVertexId> leaves;
  std::vector<double> leaf_down_bytes(leaf_count, 0.0);
  for (std::int32_t l = 0; l < leaf_count; ++l) {
    leaves.push_back(boost::add_vertex(TopoVertex{VertexKind::kLeaf, -1, l}, graph));
  }
  for (std::int32_t node = 0; node < nodes; ++node) {
    const TopoVertexId nvs = boost::add_vertex(TopoVertex{VertexKind::kNvSwitch, node, 0}, graph);
    t.nvswitch_.push_back(nvs);
    std::vector<TopoVertexId> pcie_switches;
    for (std::int32_t k = 0; k < nics; ++k) {
      const TopoVertexId ps =
          boost::add_vertex(TopoVertex{VertexKind::kPcieSwitch, node, k}, graph);
      const TopoVertexId nic = boost::add_vertex(TopoVertex{VertexKind::kNic, node, k}, graph);
      pcie_switches.push_back(ps);
      const std::int32_t up_id = t.AddLink(ps, nic, nic_rate, 0);
      t.nic_up_.push_back(up_id);
      t.nic_down_.push_back(up_id + 1);
      const std::int32_t group = node / fabric.nodes_per_leaf;
      const std::int32_t leaf = rail ? group * nics + k : group;
      const std::int32_t leaf_id = t.AddLink(nic, leaves[leaf], nic_rate, sw);
      t.nic_leaf_up_.push_back(leaf_id);
      t.nic_leaf_down_.push_back(leaf_id + 1);
      t.leaf_of_nic_.push_back(leaf);
      leaf_down_bytes[leaf] += nic_rate;
    }
    for (std::int32_t local = 0; local < g; ++local) {
      const TopoVertexId gpu = boost::add_vertex(TopoVertex{VertexKind::kGpu, node, local}, graph);
      t.gpu_.push_back(gpu);
      const std::int32_t nv = t.AddLink(gpu, nvs, up, 0);
      t.gpu_up_.push_back(nv);
      t.gpu_down_.push_back(nv + 1);
      const std::int32_t pc = t.AddLink(gpu, pcie_switches[local / per_nic], pcie, 0);
      t.gpu_pcie_up_.push_back(pc);
      t.gpu_pcie_down_.push_back(pc + 1);
    }
  }
  if (leaf_count > 1) {
    const std::int32_t pods =
        fabric.tiers == 3 ? (leaf_count + fabric.leaves_per_pod - 1) / fabric.leaves_per_pod : 1;
    std::vector<TopoVertexId> spines;
    std::vector<double> pod_up_bytes(pods, 0.0);
    for (std::int32_t p = 0; p < pods; ++p) {
      spines.push_back(boost::add_vertex(TopoVertex{VertexKind::kSpine, -1, p}, graph));
    }
    for (std::int32_t l = 0; l < leaf_count; ++l) {
      const std::int32_t pod = fabric.tiers == 3 ? l / fabric.leaves_per_pod : 0;
      const double uplink = leaf_down_bytes[l] / fabric.oversubscription;
      const std::int32_t id = t.AddLink(leaves[l], spines[pod], uplink, sw);
      t.leaf_up_.push_back(id);
      t.leaf_down_.push_back(id + 1);
      t.pod_of_leaf_.push_back(pod);
      pod_up_bytes[pod] += uplink;
    }
    if (fabric.tiers == 3 && pods > 1) {
      const TopoVertexId core = boost::add_vertex(TopoVertex{VertexKind::kCore, -1, 0}, graph);
      for (std::int32_t p = 0; p < pods; ++p) {
        const std::int32_t id =
            t.AddLink(spines[p], core, pod_up_bytes[p] / fabric.oversubscription, sw);
        t.pod_up_.push_back(id);
        t.pod_down_.push_back(id + 1);
      }
    } else {
      t.tiers_ = 2;  // one pod: no core traffic
    }
  } else {
    t.pod_of_leaf_.assign(leaf_count, 0);
  }
  return t;
}

}  // namespace foresight::hw
