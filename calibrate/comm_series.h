// CommSeries: one measured sweep of a collective (time per message size), the common form that
// every communication importer produces (nccl-tests logs, vTrain all-reduce CSVs, Azure busbw
// summaries, our own `collective` measurement tables) and the alpha-beta fitters read.
//
// Conventions follow nccl-tests (github.com/NVIDIA/nccl-tests, doc/PERFORMANCE.md): `bytes` is
// the nccl-tests "size" column and algbw = bytes / seconds; busbw = algbw * BusFactor(op, n):
//   all_reduce 2(n-1)/n; all_gather, reduce_scatter, alltoall (n-1)/n; sendrecv, broadcast,
//   reduce 1.
// LatencySteps(op, n) is the ring step count used with the per-step alpha of
// models/hw/collective.h: all_reduce 2(n-1); all_gather, reduce_scatter, alltoall (n-1);
// sendrecv, broadcast, reduce 1 (alltoall, broadcast and reduce are not priced by the
// simulator; their step counts are this file's convention for the report).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace foresight::calibrate {

enum class CommOp : std::uint8_t {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kAllToAll,
  kSendRecv,
  kBroadcast,
  kReduce,
};

// "all_reduce", "all_gather", "reduce_scatter", "alltoall", "sendrecv", "broadcast", "reduce".
std::string_view CommOpName(CommOp op);
// Accepts those names, with or without the nccl-tests "_perf" suffix; nullopt otherwise.
std::optional<CommOp> ParseCommOp(std::string_view name);

double BusFactor(CommOp op, std::int64_t ranks);
double LatencySteps(CommOp op, std::int64_t ranks);

struct CommPoint {
  double bytes = 0;    // nccl-tests "size", > 0
  double seconds = 0;  // time of one operation, > 0
  bool in_place = false;
  int line = 0;  // 1-based source line (0 when built in memory)
};

struct CommSeries {
  std::string path;  // source file
  CommOp op = CommOp::kAllReduce;
  std::string algorithm = "default";  // "ring", "nvls", "sharp", ... or "default" (NCCL's choice)
  std::int64_t ranks = 0;             // GPUs taking part
  std::int64_t nodes = 0;             // hosts they sit on
  std::string hardware;               // GPU name when the source says it, else empty
  std::vector<CommPoint> points;
  std::vector<std::string> notes;  // how ranks/nodes/op were determined, quirks applied

  bool intra_node() const { return nodes == 1; }
};

}  // namespace foresight::calibrate
