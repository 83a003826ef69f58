// Rank placement: which global ranks form each TP, CP, EP, DP and PP group.
//
// The world has tp * cp * ep * dp * pp ranks; rank r runs on GPU r, i.e. node r / gpus_per_node,
// local GPU r % gpus_per_node. The order string lists the five dimensions from fastest- to
// slowest-varying, separated by '-'; the default "tp-cp-ep-dp-pp" is Megatron-LM's
// (megatron/core/parallel_state.py, RankGenerator order "tp-cp-ep-dp-pp"): TP neighbours are
// consecutive ranks, so a TP group of <= gpus_per_node ranks stays in one node. Writing the
// coordinates (c_0, ..., c_4) in that order with sizes (s_0, ..., s_4),
//   r = c_0 + s_0 * (c_1 + s_1 * (c_2 + s_2 * (c_3 + s_3 * c_4))).
// A group of dimension d holds the ranks that share every coordinate but c_d, listed by
// increasing c_d; groups are listed by increasing smallest rank. EP is its own dimension; a
// scenario carves it out of the data-parallel ranks as Megatron-Core does (sizes {tp, cp, ep,
// dp / ep, pp}), so the dense layers' gradient group is Groups({cp, ep, dp}) and the experts'
// Groups({cp, dp}) (scenarios/network_section.cc, models/hw/comm_pricer.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace foresight::hw {

enum class ParallelDim : std::uint8_t { kTp, kCp, kEp, kDp, kPp };
inline constexpr std::string_view kDefaultPlacementOrder = "tp-cp-ep-dp-pp";
std::string_view ParallelDimName(ParallelDim dim);

struct ParallelSizes {
  std::int32_t tp = 1, cp = 1, ep = 1, dp = 1, pp = 1;
  std::int32_t Of(ParallelDim dim) const;
};

class Placement {
 public:
  std::int64_t world() const { return world_; }
  // Coordinate of `rank` along `dim`.
  std::int32_t Coordinate(std::int64_t rank, ParallelDim dim) const;
  // Distance in ranks between consecutive members of a `dim` group.
  std::int64_t Stride(ParallelDim dim) const;
  // All groups of `dim` (see above); each group lists global ranks.
  std::vector<std::vector<std::int64_t>> Groups(ParallelDim dim) const;
  // The group of `dim` that contains `rank`.
  std::vector<std::int64_t> GroupOf(std::int64_t rank, ParallelDim dim) const;
  // All groups spanning several dimensions at once: the ranks that share every coordinate but
  // those of `dims` (e.g. {cp, ep, dp} is Megatron's dense gradient group of dp*cp ranks, {cp,
  // dp} its expert-data-parallel group). Each group lists its ranks by increasing rank; groups
  // are listed by increasing smallest rank. With one dimension this equals Groups(dim).
  std::vector<std::vector<std::int64_t>> Groups(const std::vector<ParallelDim>& dims) const;

 private:
  friend Result<Placement> MakePlacement(const ParallelSizes& sizes, std::string_view order);
  std::array<ParallelDim, 5> order_{};    // fastest first
  std::array<std::int64_t, 5> stride_{};  // by ParallelDim
  ParallelSizes sizes_;
  std::int64_t world_ = 1;
};

// Errors: a size < 1; an order that is not a permutation of tp, cp, ep, dp, pp joined by '-'
// (the message names the problem and the expected form).
Result<Placement> MakePlacement(const ParallelSizes& sizes,
                                std::string_view order = kDefaultPlacementOrder);

}  // namespace foresight::hw
