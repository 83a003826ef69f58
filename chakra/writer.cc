#include "chakra/writer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <fstream>
#include <type_traits>

#include "chakra/et_def.pb.h"
#include "chakra/internal/gzip.h"

namespace foresight::chakra {
namespace {

namespace pb = ::foresight::chakra::et;

void SetValue(const AttributeValue& value, pb::AttributeProto* a) {
  std::visit(
      [a](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          a->set_int64_val(v);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          a->set_uint64_val(v);
        } else if constexpr (std::is_same_v<T, double>) {
          a->set_double_val(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          a->set_bool_val(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          a->set_string_val(v);
        }
      },
      value);
}

void AddAttrs(const std::vector<Attribute>& attrs,
              google::protobuf::RepeatedPtrField<pb::AttributeProto>* out) {
  for (const Attribute& attr : attrs) {
    if (std::holds_alternative<std::monostate>(attr.value)) continue;
    pb::AttributeProto* a = out->Add();
    a->set_name(attr.name);
    SetValue(attr.value, a);
  }
}

void ToProto(const TraceNode& node, pb::Node* out) {
  out->Clear();
  out->set_id(node.id);
  out->set_name(node.name);
  out->set_type(static_cast<pb::NodeType>(node.type));
  for (std::uint64_t d : node.ctrl_deps) out->add_ctrl_deps(d);
  for (std::uint64_t d : node.data_deps) out->add_data_deps(d);
  out->set_start_time_micros(node.start_time_micros);
  out->set_duration_micros(node.duration_micros);
  auto attr = [out](const char* name) {
    pb::AttributeProto* a = out->add_attr();
    a->set_name(name);
    return a;
  };
  if (node.is_cpu_op) attr("is_cpu_op")->set_bool_val(*node.is_cpu_op);
  if (node.num_ops) attr("num_ops")->set_int64_val(*node.num_ops);
  if (node.tensor_size) attr("tensor_size")->set_uint64_val(*node.tensor_size);
  if (node.comm_type) attr("comm_type")->set_int64_val(static_cast<std::int64_t>(*node.comm_type));
  if (node.comm_size) attr("comm_size")->set_int64_val(*node.comm_size);
  if (node.comm_src) attr("comm_src")->set_int32_val(*node.comm_src);
  if (node.comm_dst) attr("comm_dst")->set_int32_val(*node.comm_dst);
  if (node.comm_tag) attr("comm_tag")->set_int32_val(*node.comm_tag);
  if (node.pg_name) attr("pg_name")->set_string_val(*node.pg_name);
  if (node.comm_group_size) attr("comm_group_size")->set_int64_val(*node.comm_group_size);
  AddAttrs(node.other_attrs, out->mutable_attr());
}

void WriteDelimited(const google::protobuf::Message& message,
                    google::protobuf::io::CodedOutputStream* out) {
  out->WriteVarint32(static_cast<std::uint32_t>(message.ByteSizeLong()));
  message.SerializeWithCachedSizes(out);
}

}  // namespace

std::string SerializeRankTrace(const RankTrace& trace, bool gzip) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    pb::GlobalMetadata metadata;
    metadata.set_version(trace.version);
    AddAttrs(trace.metadata, metadata.mutable_attr());
    WriteDelimited(metadata, &out);
    pb::Node node;
    for (const TraceNode& n : trace.nodes) {
      ToProto(n, &node);
      WriteDelimited(node, &out);
    }
  }
  return gzip ? internal::Gzip(bytes) : bytes;
}

Status WriteRankTrace(const RankTrace& trace, const std::string& path, bool gzip) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error{"cannot open the file for writing", path, 0, 0};
  const std::string bytes = SerializeRankTrace(trace, gzip);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Error{"error while writing the Chakra trace", path, 0, 0};
  return Status::Ok();
}

Status WriteTraces(const std::vector<RankTrace>& traces, const std::string& prefix, bool gzip) {
  for (std::size_t r = 0; r < traces.size(); ++r) {
    FS_CHECK(traces[r].rank == static_cast<std::int32_t>(r), "traces must be in rank order");
    if (Status s = WriteRankTrace(traces[r], RankFileName(prefix, traces[r].rank), gzip); !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace foresight::chakra
