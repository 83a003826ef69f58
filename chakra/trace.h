// In-memory form of MLCommons Chakra execution traces (one graph per rank), independent of the
// generated protobuf types.
//
// A rank's trace is the GlobalMetadata message and its nodes in file order. The attributes the
// replay understands are decoded into typed fields (std::optional: absent in the file = empty);
// every other attribute is kept by name with a scalar value. Attribute types follow the Chakra
// feeder (src/feeder/et_feeder_node.cpp): num_ops int64, tensor_size uint64, comm_type int64
// (a CollectiveCommType value), comm_size int64, comm_src/comm_dst/comm_tag int32, pg_name
// string, is_cpu_op bool. The reader also accepts any other integer encoding of an integer
// attribute (int32/int64/uint32/uint64/sint/fixed) and the writer emits the feeder's types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace foresight::chakra {

// Same numbers as et_def.proto NodeType.
enum class NodeType : std::uint8_t {
  kInvalid = 0,
  kMetadata = 1,
  kMemLoad = 2,
  kMemStore = 3,
  kComp = 4,
  kCommSend = 5,
  kCommRecv = 6,
  kCommColl = 7,
};
inline constexpr int kNumNodeTypes = 8;
std::string_view NodeTypeName(NodeType type);  // "COMP_NODE", ...

// Same numbers as et_def.proto CollectiveCommType.
enum class CommType : std::uint8_t {
  kAllReduce = 0,
  kReduce = 1,
  kAllGather = 2,
  kGather = 3,
  kScatter = 4,
  kBroadcast = 5,
  kAllToAll = 6,
  kReduceScatter = 7,
  kReduceScatterBlock = 8,
  kBarrier = 9,
};
inline constexpr int kNumCommTypes = 10;
std::string_view CommTypeName(CommType type);  // "ALL_REDUCE", ...

// A scalar attribute value. List and bytes attributes are kept as std::monostate (present, not
// decoded).
using AttributeValue =
    std::variant<std::monostate, std::int64_t, std::uint64_t, double, bool, std::string>;

struct Attribute {
  std::string name;
  AttributeValue value;
  bool operator==(const Attribute&) const = default;
};

struct TraceNode {
  std::uint64_t id = 0;
  std::string name;
  NodeType type = NodeType::kInvalid;
  std::vector<std::uint64_t> data_deps;  // in file order
  std::vector<std::uint64_t> ctrl_deps;  // in file order
  std::uint64_t start_time_micros = 0;
  std::uint64_t duration_micros = 0;
  // Well-known attributes.
  std::optional<std::int64_t> num_ops;
  std::optional<std::uint64_t> tensor_size;  // bytes
  std::optional<CommType> comm_type;
  std::optional<std::int64_t> comm_size;  // bytes
  std::optional<std::int32_t> comm_src;
  std::optional<std::int32_t> comm_dst;
  std::optional<std::int32_t> comm_tag;
  std::optional<std::string> pg_name;
  std::optional<bool> is_cpu_op;
  // foresight extension: members of the process group when not all of them are in the trace
  // (exported stage-representative ranks; docs/chakra.md). Other tools ignore it.
  std::optional<std::int64_t> comm_group_size;
  // Every other attribute, in file order.
  std::vector<Attribute> other_attrs;

  // The value of the other attribute `name`, or nullptr.
  const AttributeValue* FindAttr(std::string_view attr_name) const;
  bool operator==(const TraceNode&) const = default;
};

struct RankTrace {
  std::int32_t rank = 0;
  std::string file;  // where it was read from or written to (for error messages)
  std::string version;
  std::vector<Attribute> metadata;  // GlobalMetadata.attr
  std::vector<TraceNode> nodes;     // file order
};

// PREFIX.RANK.et, the Chakra naming convention for per-rank files.
std::string RankFileName(const std::string& prefix, std::int32_t rank);

}  // namespace foresight::chakra
