#include "sim/flow.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <utility>

#include "base/check.h"

namespace foresight::sim {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Progressive filling over a subset of flows (`active` indexes into `paths`); writes rates.
// A lazy min-heap keyed by each link's fair share (remaining capacity / unfrozen flows) finds
// the bottleneck; stale entries (the link's count changed since the push) are skipped.
class Filler {
 public:
  explicit Filler(const std::vector<double>& capacity) : capacity_(capacity) {
    remaining_.resize(capacity.size());
    count_.resize(capacity.size());
    flows_on_.resize(capacity.size());
  }

  void Solve(const std::vector<const std::vector<std::int32_t>*>& paths,
             std::vector<double>& rates) {
    const std::size_t n = paths.size();
    rates.assign(n, kInfinity);
    touched_.clear();
    for (std::size_t f = 0; f < n; ++f) {
      for (std::int32_t link : *paths[f]) {
        FS_CHECK(link >= 0 && static_cast<std::size_t>(link) < capacity_.size(),
                 "flow path names a link out of range");
        if (count_[link] == 0) {
          touched_.push_back(link);
          remaining_[link] = capacity_[link];
          flows_on_[link].clear();
        }
        ++count_[link];
        flows_on_[link].push_back(static_cast<std::int32_t>(f));
      }
    }
    // No sort needed: heap entries are ordered by (share, link, count), whatever the push order.
    using Entry = std::pair<double, std::pair<std::int32_t, std::int32_t>>;  // share, link, count
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
    for (std::int32_t link : touched_) {
      heap.push({remaining_[link] / count_[link], {link, count_[link]}});
    }
    frozen_.assign(n, false);
    while (!heap.empty()) {
      const auto [share_raw, key] = heap.top();
      heap.pop();
      const auto [link, count] = key;
      if (count != count_[link] || count == 0) continue;  // stale
      const double share = std::max(0.0, share_raw);
      for (std::int32_t f : flows_on_[link]) {
        if (frozen_[f]) continue;
        frozen_[f] = true;
        rates[f] = share;
        for (std::int32_t other : *paths[f]) {
          remaining_[other] -= share;
          --count_[other];
          if (other != link && count_[other] > 0) {
            heap.push({remaining_[other] / count_[other], {other, count_[other]}});
          }
        }
      }
    }
    for (std::int32_t link : touched_) count_[link] = 0;
  }

 private:
  const std::vector<double>& capacity_;
  std::vector<double> remaining_;
  std::vector<std::int32_t> count_;
  std::vector<std::vector<std::int32_t>> flows_on_;
  std::vector<std::int32_t> touched_;
  std::vector<bool> frozen_;
};

}  // namespace

std::vector<double> MaxMinFairRates(const std::vector<double>& capacity_bytes_per_s,
                                    const std::vector<FlowPath>& paths) {
  for (double c : capacity_bytes_per_s) FS_CHECK(c > 0, "link capacity must be > 0");
  std::vector<const std::vector<std::int32_t>*> view;
  view.reserve(paths.size());
  for (const FlowPath& p : paths) view.push_back(&p.links);
  Filler filler(capacity_bytes_per_s);
  std::vector<double> rates;
  filler.Solve(view, rates);
  return rates;
}

FlowResult SimulateFlows(const std::vector<double>& capacity_bytes_per_s,
                         const std::vector<FlowSpec>& flows) {
  for (double c : capacity_bytes_per_s) FS_CHECK(c > 0, "link capacity must be > 0");
  const std::size_t n = flows.size();
  FlowResult result;
  result.start.assign(n, SimTime::Zero());
  result.finish.assign(n, SimTime::Zero());
  std::vector<std::int32_t> waiting(n, 0);
  std::vector<std::vector<std::int32_t>> dependents(n);
  for (std::size_t f = 0; f < n; ++f) {
    FS_CHECK(flows[f].bytes >= 0, "flow bytes must be >= 0");
    for (std::int32_t d : flows[f].depends_on) {
      FS_CHECK(d >= 0 && static_cast<std::size_t>(d) < f,
               "a flow may depend on earlier flows only");
      ++waiting[f];
      dependents[d].push_back(static_cast<std::int32_t>(f));
    }
  }
  using Start = std::pair<std::int64_t, std::int32_t>;  // start time (ps), flow
  std::priority_queue<Start, std::vector<Start>, std::greater<>> starts;
  for (std::size_t f = 0; f < n; ++f) {
    if (waiting[f] == 0) starts.push({flows[f].delay.ps(), static_cast<std::int32_t>(f)});
  }

  Filler filler(capacity_bytes_per_s);
  std::vector<std::int32_t> active;
  std::vector<double> remaining(n, 0), rates;
  std::vector<const std::vector<std::int32_t>*> paths;
  std::int64_t now = 0;
  bool dirty = false;
  std::size_t done = 0;

  const auto complete = [&](std::int32_t f, std::int64_t t) {
    result.finish[f] = SimTime::Picoseconds(t);
    ++done;
    for (std::int32_t d : dependents[f]) {
      if (--waiting[d] == 0) starts.push({t + flows[d].delay.ps(), d});
    }
  };

  while (done < n) {
    if (dirty) {
      paths.clear();
      for (std::int32_t f : active) paths.push_back(&flows[f].links);
      filler.Solve(paths, rates);
      ++result.rate_solves;
      dirty = false;
    }
    // Next completion among active flows.
    std::int64_t next = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 0; i < active.size(); ++i) {
      if (!(rates[i] > 0)) continue;  // starved (rounding): waits for the next event
      const double seconds = remaining[active[i]] / rates[i];
      const auto ps = static_cast<std::int64_t>(std::ceil(seconds * 1e12));
      next = std::min(next, now + std::max<std::int64_t>(ps, 0));
    }
    if (!starts.empty()) next = std::min(next, starts.top().first);
    FS_CHECK(next != std::numeric_limits<std::int64_t>::max(), "flow simulation stalled");
    const double dt = static_cast<double>(next - now) * 1e-12;
    now = next;
    // Advance and complete.
    std::vector<std::int32_t> still;
    still.reserve(active.size());
    std::vector<std::int32_t> finished;
    for (std::size_t i = 0; i < active.size(); ++i) {
      const std::int32_t f = active[i];
      remaining[f] -= rates[i] * dt;
      // Done when what is left takes at most one picosecond (rounding of the event time).
      if (remaining[f] <= rates[i] * 1e-12 + 1e-9 * flows[f].bytes) {
        finished.push_back(f);
      } else {
        still.push_back(f);
      }
    }
    if (!finished.empty()) dirty = true;
    active.swap(still);
    for (std::int32_t f : finished) complete(f, now);
    // Start flows due now (zero-byte or unconstrained flows complete at once, possibly
    // readying further flows at the same instant).
    while (!starts.empty() && starts.top().first <= now) {
      const std::int32_t f = starts.top().second;
      starts.pop();
      result.start[f] = SimTime::Picoseconds(now);
      if (flows[f].bytes <= 0 || flows[f].links.empty()) {
        complete(f, now);
        continue;
      }
      remaining[f] = flows[f].bytes;
      active.push_back(f);
      dirty = true;
    }
    if (dirty) std::sort(active.begin(), active.end());
  }
  for (std::size_t f = 0; f < n; ++f) result.makespan = Max(result.makespan, result.finish[f]);
  return result;
}

}  // namespace foresight::sim
