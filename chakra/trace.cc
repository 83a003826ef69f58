#include "chakra/trace.h"

#include <array>

namespace foresight::chakra {

std::string_view NodeTypeName(NodeType type) {
  static constexpr std::array<std::string_view, kNumNodeTypes> kNames = {
      "INVALID_NODE", "METADATA_NODE",  "MEM_LOAD_NODE",  "MEM_STORE_NODE",
      "COMP_NODE",    "COMM_SEND_NODE", "COMM_RECV_NODE", "COMM_COLL_NODE"};
  const auto i = static_cast<std::size_t>(type);
  return i < kNames.size() ? kNames[i] : "UNKNOWN_NODE";
}

std::string_view CommTypeName(CommType type) {
  static constexpr std::array<std::string_view, kNumCommTypes> kNames = {
      "ALL_REDUCE", "REDUCE",         "ALL_GATHER",           "GATHER", "SCATTER", "BROADCAST",
      "ALL_TO_ALL", "REDUCE_SCATTER", "REDUCE_SCATTER_BLOCK", "BARRIER"};
  const auto i = static_cast<std::size_t>(type);
  return i < kNames.size() ? kNames[i] : "UNKNOWN";
}

const AttributeValue* TraceNode::FindAttr(std::string_view attr_name) const {
  for (const Attribute& a : other_attrs) {
    if (a.name == attr_name) return &a.value;
  }
  return nullptr;
}

std::string RankFileName(const std::string& prefix, std::int32_t rank) {
  return prefix + "." + std::to_string(rank) + ".et";
}

}  // namespace foresight::chakra
