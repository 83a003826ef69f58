// Importer for the vTrain all-reduce sweeps (github.com/VIA-Research/vTrain, data kept in
// data/vtrain-a100/allreduce_a100_{2..8}gpu.csv): nccl-tests numbers as CSV,
//   size(B),count,type,time(ns),busbw(GB/s),time(ns),busbw(GB/s)
// (out-of-place, then in-place). The op is all-reduce (the dataset's README and file names say
// so; the CSV has no op column). Ranks come from the content: busbw / algbw = 2(n-1)/n with
// algbw = size / time, solved for n on the largest message, and must agree with "<N>gpu" in the
// file name when the name has one. Nodes = 1 (one 8-GPU node, dataset README).
// Errors (file:line:column): wrong header, wrong cell count, non-numeric or non-positive cells,
// no rows, rank count disagreeing with the file name. O(file size).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "calibrate/comm_series.h"

namespace foresight::calibrate {

inline constexpr std::string_view kVtrainAllReduceHeader =
    "size(B),count,type,time(ns),busbw(GB/s),time(ns),busbw(GB/s)";

Result<CommSeries> ParseVtrainAllReduce(std::string_view text, const std::string& path);

}  // namespace foresight::calibrate
