#include "chakra/reader.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>

#include "chakra/et_def.pb.h"
#include "chakra/internal/gzip.h"

namespace foresight::chakra {
namespace {

namespace pb = ::foresight::chakra::et;

// Decodes any integer encoding of an attribute; nullopt for non-integers.
std::optional<std::int64_t> IntegerOf(const pb::AttributeProto& a) {
  switch (a.value_case()) {
    case pb::AttributeProto::kInt32Val:
      return a.int32_val();
    case pb::AttributeProto::kInt64Val:
      return a.int64_val();
    case pb::AttributeProto::kUint32Val:
      return a.uint32_val();
    case pb::AttributeProto::kUint64Val:
      if (a.uint64_val() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
      }
      return static_cast<std::int64_t>(a.uint64_val());
    case pb::AttributeProto::kSint32Val:
      return a.sint32_val();
    case pb::AttributeProto::kSint64Val:
      return a.sint64_val();
    case pb::AttributeProto::kFixed32Val:
      return a.fixed32_val();
    case pb::AttributeProto::kFixed64Val:
      if (a.fixed64_val() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
      }
      return static_cast<std::int64_t>(a.fixed64_val());
    case pb::AttributeProto::kSfixed32Val:
      return a.sfixed32_val();
    case pb::AttributeProto::kSfixed64Val:
      return a.sfixed64_val();
    default:
      return std::nullopt;
  }
}

AttributeValue ValueOf(const pb::AttributeProto& a) {
  switch (a.value_case()) {
    case pb::AttributeProto::kDoubleVal:
      return a.double_val();
    case pb::AttributeProto::kFloatVal:
      return static_cast<double>(a.float_val());
    case pb::AttributeProto::kUint64Val:
      return a.uint64_val();
    case pb::AttributeProto::kFixed64Val:
      return static_cast<std::uint64_t>(a.fixed64_val());
    case pb::AttributeProto::kBoolVal:
      return a.bool_val();
    case pb::AttributeProto::kStringVal:
      return a.string_val();
    default:
      if (std::optional<std::int64_t> v = IntegerOf(a)) return *v;
      return std::monostate{};
  }
}

std::vector<Attribute> ConvertAttrs(
    const google::protobuf::RepeatedPtrField<pb::AttributeProto>& attrs) {
  std::vector<Attribute> out;
  out.reserve(static_cast<std::size_t>(attrs.size()));
  for (const pb::AttributeProto& a : attrs) out.push_back(Attribute{a.name(), ValueOf(a)});
  return out;
}

// Converts one node; `where` prefixes error messages ("node 42").
Result<TraceNode> ConvertNode(const pb::Node& n, const std::string& where) {
  TraceNode node;
  node.id = n.id();
  node.name = n.name();
  const int type = static_cast<int>(n.type());
  if (type < 0 || type >= kNumNodeTypes) {
    return Error{where + ": unknown node type " + std::to_string(type) +
                     "; expected 0..7 (INVALID_NODE .. COMM_COLL_NODE)",
                 "", 0, 0};
  }
  node.type = static_cast<NodeType>(type);
  node.data_deps.assign(n.data_deps().begin(), n.data_deps().end());
  node.ctrl_deps.assign(n.ctrl_deps().begin(), n.ctrl_deps().end());
  node.start_time_micros = n.start_time_micros();
  node.duration_micros = n.duration_micros();

  auto integer = [&](const pb::AttributeProto& a, std::int64_t lo,
                     std::int64_t hi) -> Result<std::int64_t> {
    const std::optional<std::int64_t> v = IntegerOf(a);
    if (!v) {
      return Error{where + ": attribute '" + a.name() + "': expected an integer value, found " +
                       (a.value_case() == pb::AttributeProto::VALUE_NOT_SET
                            ? std::string("no value")
                            : "field " + std::to_string(static_cast<int>(a.value_case()))),
                   "", 0, 0};
    }
    if (*v < lo || *v > hi) {
      return Error{where + ": attribute '" + a.name() + "' = " + std::to_string(*v) +
                       " is out of range; expected " + std::to_string(lo) + " .. " +
                       std::to_string(hi),
                   "", 0, 0};
    }
    return *v;
  };
  constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kI32Max = std::numeric_limits<std::int32_t>::max();
  for (const pb::AttributeProto& a : n.attr()) {
    const std::string& name = a.name();
    if (name == "is_cpu_op") {
      if (a.value_case() == pb::AttributeProto::kBoolVal) {
        node.is_cpu_op = a.bool_val();
      } else {
        Result<std::int64_t> v = integer(a, 0, 1);
        if (!v.ok()) return v.error();
        node.is_cpu_op = *v != 0;
      }
    } else if (name == "pg_name") {
      if (a.value_case() != pb::AttributeProto::kStringVal) {
        // Some converters store the group as a number.
        Result<std::int64_t> v = integer(a, std::numeric_limits<std::int64_t>::min(), kI64Max);
        if (!v.ok()) return v.error();
        node.pg_name = std::to_string(*v);
      } else {
        node.pg_name = a.string_val();
      }
    } else if (name == "num_ops" || name == "tensor_size" || name == "comm_size" ||
               name == "comm_type" || name == "comm_src" || name == "comm_dst" ||
               name == "comm_tag" || name == "comm_group_size") {
      const bool is32 = name == "comm_src" || name == "comm_dst" || name == "comm_tag";
      const std::int64_t hi = name == "comm_type" ? kNumCommTypes - 1 : (is32 ? kI32Max : kI64Max);
      Result<std::int64_t> v = integer(a, 0, hi);
      if (!v.ok()) return v.error();
      if (name == "num_ops") node.num_ops = *v;
      if (name == "tensor_size") node.tensor_size = static_cast<std::uint64_t>(*v);
      if (name == "comm_size") node.comm_size = *v;
      if (name == "comm_type") node.comm_type = static_cast<CommType>(*v);
      if (name == "comm_src") node.comm_src = static_cast<std::int32_t>(*v);
      if (name == "comm_dst") node.comm_dst = static_cast<std::int32_t>(*v);
      if (name == "comm_tag") node.comm_tag = static_cast<std::int32_t>(*v);
      if (name == "comm_group_size") node.comm_group_size = *v;
    } else {
      node.other_attrs.push_back(Attribute{name, ValueOf(a)});
    }
  }
  return node;
}

}  // namespace

Result<RankTrace> ParseRankTrace(std::string_view bytes, const std::string& file, std::int32_t rank,
                                 const ReadLimits& limits) {
  const std::int64_t max_buffer =
      std::min<std::int64_t>(limits.max_decompressed_bytes, std::numeric_limits<int>::max());
  std::string inflated;
  if (internal::IsGzip(bytes)) {
    Result<std::string> r = internal::Gunzip(bytes, file, max_buffer);
    if (!r.ok()) return r.error();
    inflated = std::move(r).value();
    bytes = inflated;
  } else if (static_cast<std::int64_t>(bytes.size()) > max_buffer) {
    return Error{"trace of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                     std::to_string(max_buffer) + " bytes",
                 file, 0, 0};
  }
  RankTrace trace;
  trace.rank = rank;
  trace.file = file;
  if (bytes.empty()) {
    return Error{"empty file; expected a Chakra trace (GlobalMetadata, then nodes)", file, 0, 0};
  }

  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  pb::GlobalMetadata metadata;
  pb::Node node;
  std::int64_t index = 0;  // 0 = metadata, k = k-th node
  std::string after = "at the start of the file";
  while (true) {
    const int offset = in.CurrentPosition();
    if (offset == static_cast<int>(bytes.size())) break;
    const std::string what = index == 0
                                 ? std::string("metadata message")
                                 : "node message " + std::to_string(index) + " (" + after + ")";
    std::uint32_t size = 0;
    if (!in.ReadVarint32(&size)) {
      return Error{"truncated or corrupt length prefix of the " + what + " at byte " +
                       std::to_string(offset),
                   file, 0, 0};
    }
    const std::int64_t left = static_cast<std::int64_t>(bytes.size()) - in.CurrentPosition();
    if (static_cast<std::int64_t>(size) > limits.max_message_bytes) {
      return Error{"the " + what + " at byte " + std::to_string(offset) + " claims " +
                       std::to_string(size) + " bytes, over the limit of " +
                       std::to_string(limits.max_message_bytes) + " bytes (corrupt or oversized)",
                   file, 0, 0};
    }
    if (static_cast<std::int64_t>(size) > left) {
      return Error{"truncated file: the " + what + " at byte " + std::to_string(offset) +
                       " claims " + std::to_string(size) + " bytes but only " +
                       std::to_string(left) + " remain",
                   file, 0, 0};
    }
    const auto limit = in.PushLimit(static_cast<int>(size));
    google::protobuf::Message& message =
        index == 0 ? static_cast<google::protobuf::Message&>(metadata) : node;
    message.Clear();
    const bool parsed = message.ParseFromCodedStream(&in) && in.BytesUntilLimit() == 0;
    in.PopLimit(limit);
    if (!parsed) {
      return Error{"corrupt " + what + " at byte " + std::to_string(offset) +
                       ": not a valid Chakra " + (index == 0 ? "GlobalMetadata" : "Node") +
                       " message",
                   file, 0, 0};
    }
    if (index == 0) {
      trace.version = metadata.version();
      trace.metadata = ConvertAttrs(metadata.attr());
    } else {
      if (index > limits.max_nodes) {
        return Error{"more than " + std::to_string(limits.max_nodes) + " nodes (limit)", file, 0,
                     0};
      }
      Result<TraceNode> converted = ConvertNode(node, "node " + std::to_string(node.id()));
      if (!converted.ok()) return Error{converted.error().message, file, 0, 0};
      trace.nodes.push_back(std::move(converted).value());
      after = "after node id " + std::to_string(node.id());
    }
    ++index;
  }
  return trace;
}

Result<RankTrace> ReadRankTrace(const std::string& path, std::int32_t rank,
                                const ReadLimits& limits) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Error{"missing Chakra trace file", path, 0, 0};
  }
  if (std::filesystem::is_directory(path, ec)) {
    return Error{"expected a Chakra trace file, found a directory", path, 0, 0};
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error{"cannot read the file size: " + ec.message(), path, 0, 0};
  if (static_cast<std::int64_t>(size) > limits.max_file_bytes) {
    return Error{"file of " + std::to_string(size) + " bytes exceeds the limit of " +
                     std::to_string(limits.max_file_bytes) + " bytes",
                 path, 0, 0};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open the Chakra trace file", path, 0, 0};
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) {
    return Error{"error while reading the Chakra trace file", path, 0, 0};
  }
  return ParseRankTrace(bytes, path, rank, limits);
}

Result<std::vector<RankTrace>> ReadTraces(const std::string& prefix, std::int32_t ranks,
                                          const ReadLimits& limits) {
  if (ranks < 1) return Error{"ranks must be at least 1, found " + std::to_string(ranks), "", 0, 0};
  std::vector<std::string> missing;
  std::error_code ec;
  for (std::int32_t r = 0; r < ranks; ++r) {
    const std::string path = RankFileName(prefix, r);
    if (!std::filesystem::is_regular_file(path, ec)) missing.push_back(path);
  }
  if (!missing.empty()) {
    std::string message =
        "missing Chakra trace file for rank " +
        missing.front().substr(prefix.size() + 1, missing.front().size() - prefix.size() - 4) +
        " (" + std::to_string(missing.size()) + " of " + std::to_string(ranks) +
        " expected files " + prefix + ".0.et .. " + RankFileName(prefix, ranks - 1) +
        " are missing)";
    return Error{message, missing.front(), 0, 0};
  }
  std::vector<RankTrace> traces;
  traces.reserve(static_cast<std::size_t>(ranks));
  for (std::int32_t r = 0; r < ranks; ++r) {
    Result<RankTrace> t = ReadRankTrace(RankFileName(prefix, r), r, limits);
    if (!t.ok()) return t.error();
    traces.push_back(std::move(t).value());
  }
  return traces;
}

}  // namespace foresight::chakra
