#include "calibrate/comm_series.h"

#include <string>

namespace foresight::calibrate {

std::string_view CommOpName(CommOp op) {
  switch (op) {
    case CommOp::kAllReduce:
      return "all_reduce";
    case CommOp::kAllGather:
      return "all_gather";
    case CommOp::kReduceScatter:
      return "reduce_scatter";
    case CommOp::kAllToAll:
      return "alltoall";
    case CommOp::kSendRecv:
      return "sendrecv";
    case CommOp::kBroadcast:
      return "broadcast";
    case CommOp::kReduce:
      return "reduce";
  }
  return "?";
}

std::optional<CommOp> ParseCommOp(std::string_view name) {
  if (name.size() > 5 && name.substr(name.size() - 5) == "_perf") {
    name.remove_suffix(5);
  }
  for (CommOp op : {CommOp::kAllReduce, CommOp::kAllGather, CommOp::kReduceScatter,
                    CommOp::kAllToAll, CommOp::kSendRecv, CommOp::kBroadcast, CommOp::kReduce}) {
    if (name == CommOpName(op)) return op;
  }
  if (name == "allreduce") return CommOp::kAllReduce;
  if (name == "allgather") return CommOp::kAllGather;
  if (name == "reducescatter") return CommOp::kReduceScatter;
  if (name == "all_to_all") return CommOp::kAllToAll;
  return std::nullopt;
}

double BusFactor(CommOp op, std::int64_t ranks) {
  const double n = static_cast<double>(ranks);
  switch (op) {
    case CommOp::kAllReduce:
      return 2.0 * (n - 1) / n;
    case CommOp::kAllGather:
    case CommOp::kReduceScatter:
    case CommOp::kAllToAll:
      return (n - 1) / n;
    case CommOp::kSendRecv:
    case CommOp::kBroadcast:
    case CommOp::kReduce:
      return 1.0;
  }
  return 1.0;
}

double LatencySteps(CommOp op, std::int64_t ranks) {
  const double n = static_cast<double>(ranks);
  switch (op) {
    case CommOp::kAllReduce:
      return 2.0 * (n - 1);
    case CommOp::kAllGather:
    case CommOp::kReduceScatter:
    case CommOp::kAllToAll:
      return n - 1;
    case CommOp::kSendRecv:
    case CommOp::kBroadcast:
    case CommOp::kReduce:
      return 1.0;
  }
  return 1.0;
}

}  // namespace foresight::calibrate
