#include "models/hw/placement.h"

#include <algorithm>

#include "base/check.h"

namespace foresight::hw {
namespace {

constexpr std::array<ParallelDim, 5> kAllDims = {
    ParallelDim::kTp, ParallelDim::kCp, ParallelDim::kEp, ParallelDim::kDp, ParallelDim::kPp};

std::size_t Index(ParallelDim dim) { return static_cast<std::size_t>(dim); }

}  // namespace

std::string_view ParallelDimName(ParallelDim dim) {
  switch (dim) {
    case ParallelDim::kTp:
      return "tp";
    case ParallelDim::kCp:
      return "cp";
    case ParallelDim::kEp:
      return "ep";
    case ParallelDim::kDp:
      return "dp";
    case ParallelDim::kPp:
      return "pp";
  }
  return "?";
}

std::int32_t ParallelSizes::Of(ParallelDim dim) const {
  switch (dim) {
    case ParallelDim::kTp:
      return tp;
    case ParallelDim::kCp:
      return cp;
    case ParallelDim::kEp:
      return ep;
    case ParallelDim::kDp:
      return dp;
    case ParallelDim::kPp:
      return pp;
  }
  return 1;
}

Result<Placement> MakePlacement(const ParallelSizes& sizes, std::string_view order) {
  const std::string expected =
      "; expected the five names tp, cp, ep, dp, pp each once, joined by '-' (fastest-varying "
      "first), e.g. \"tp-cp-ep-dp-pp\"";
  Placement p;
  std::size_t count = 0;
  std::array<bool, 5> seen{};
  std::size_t begin = 0;
  while (begin <= order.size()) {
    std::size_t end = order.find('-', begin);
    if (end == std::string_view::npos) end = order.size();
    const std::string_view token = order.substr(begin, end - begin);
    const auto it = std::find_if(kAllDims.begin(), kAllDims.end(),
                                 [&](ParallelDim d) { return ParallelDimName(d) == token; });
    if (it == kAllDims.end()) {
      return Error::At("", 0, 0,
                       "placement order '" + std::string(order) + "': unknown dimension '" +
                           std::string(token) + "'" + expected);
    }
    if (seen[Index(*it)] || count >= 5) {
      return Error::At("", 0, 0,
                       "placement order '" + std::string(order) + "': '" + std::string(token) +
                           "' appears twice" + expected);
    }
    seen[Index(*it)] = true;
    p.order_[count++] = *it;
    begin = end + 1;
  }
  if (count != 5) {
    return Error::At("", 0, 0,
                     "placement order '" + std::string(order) + "' names " + std::to_string(count) +
                         " dimensions" + expected);
  }
  for (ParallelDim d : kAllDims) {
    if (sizes.Of(d) < 1) {
      return Error::At("", 0, 0,
                       std::string(ParallelDimName(d)) + " size must be >= 1, found " +
                           std::to_string(sizes.Of(d)));
    }
  }
  p.sizes_ = sizes;
  std::int64_t stride = 1;
  for (ParallelDim d : p.order_) {
    p.stride_[Index(d)] = stride;
    stride *= sizes.Of(d);
  }
  p.world_ = stride;
  return p;
}

std::int32_t Placement::Coordinate(std::int64_t rank, ParallelDim dim) const {
  return static_cast<std::int32_t>((rank / stride_[Index(dim)]) % sizes_.Of(dim));
}

std::int64_t Placement::Stride(ParallelDim dim) const { return stride_[Index(dim)]; }

std::vector<std::int64_t> Placement::GroupOf(std::int64_t rank, ParallelDim dim) const {
  FS_CHECK(rank >= 0 && rank < world_, "rank out of range");
  const std::int64_t base = rank - Coordinate(rank, dim) * Stride(dim);
  std::vector<std::int64_t> group;
  for (std::int32_t c = 0; c < sizes_.Of(dim); ++c) group.push_back(base + c * Stride(dim));
  return group;
}

std::vector<std::vector<std::int64_t>> Placement::Groups(ParallelDim dim) const {
  std::vector<std::vector<std::int64_t>> groups;
  for (std::int64_t r = 0; r < world_; ++r) {
    if (Coordinate(r, dim) == 0) groups.push_back(GroupOf(r, dim));
  }
  return groups;
}

std::vector<std::vector<std::int64_t>> Placement::Groups(
    const std::vector<ParallelDim>& dims) const {
  // Offsets of every coordinate combination of `dims` from the group's base rank (the member
  // with all those coordinates 0), ascending.
  std::vector<std::int64_t> offsets = {0};
  std::array<bool, 5> in_group{};
  for (ParallelDim d : dims) {
    if (in_group[Index(d)]) continue;
    in_group[Index(d)] = true;
    std::vector<std::int64_t> next;
    next.reserve(offsets.size() * static_cast<std::size_t>(sizes_.Of(d)));
    for (std::int32_t c = 0; c < sizes_.Of(d); ++c) {
      for (std::int64_t o : offsets) next.push_back(o + c * Stride(d));
    }
    offsets.swap(next);
  }
  std::sort(offsets.begin(), offsets.end());
  std::vector<std::vector<std::int64_t>> groups;
  for (std::int64_t r = 0; r < world_; ++r) {
    bool base = true;
    for (ParallelDim d : kAllDims) base = base && (!in_group[Index(d)] || Coordinate(r, d) == 0);
    if (!base) continue;
    std::vector<std::int64_t>& group = groups.emplace_back();
    group.reserve(offsets.size());
    for (std::int64_t o : offsets) group.push_back(r + o);
  }
  return groups;
}

}  // namespace foresight::hw
