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
    changed_mark_.resize(capacity.size());
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
    // The heap's storage is kept between calls (emptied at the end of every solve).
    for (std::int32_t link : touched_) {
      heap_.push({remaining_[link] / count_[link], {link, count_[link]}});
    }
    frozen_.assign(n, false);
    while (!heap_.empty()) {
      const auto [share_raw, key] = heap_.top();
      heap_.pop();
      const auto [link, count] = key;
      if (count != count_[link] || count == 0) continue;  // stale
      const double share = std::max(0.0, share_raw);
      // Freeze every unfrozen flow of the bottleneck, then push one heap entry per link whose
      // count changed: an entry pushed after each single decrement would be stale before it
      // could be popped (counts only fall), so this pops exactly the same entries.
      changed_.clear();
      for (std::int32_t f : flows_on_[link]) {
        if (frozen_[f]) continue;
        frozen_[f] = true;
        rates[f] = share;
        for (std::int32_t other : *paths[f]) {
          remaining_[other] -= share;
          --count_[other];
          if (!changed_mark_[other]) {
            changed_mark_[other] = true;
            changed_.push_back(other);
          }
        }
      }
      for (std::int32_t other : changed_) {
        changed_mark_[other] = false;
        if (other != link && count_[other] > 0) {
          heap_.push({remaining_[other] / count_[other], {other, count_[other]}});
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
  std::vector<std::int32_t> changed_;
  std::vector<bool> changed_mark_;
  using Entry = std::pair<double, std::pair<std::int32_t, std::int32_t>>;  // share, link, count
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
};

// The same progressive filling with an indexed heap: one entry per link that still has unfrozen
// flows, keyed by (share, link) and updated in place when the link's count falls (shares only
// grow: a bottleneck's share s <= remaining / count, so (remaining - s) / (count - 1) >= the old
// share). The lazy heap above holds exactly one valid entry per such link, with the same share
// computed the same way, and pops them in (share, link) order too, so both fill identically
// (checked against each other in sim/flow_test.cc through SimulateFlowsReference); this one
// keeps the heap at the number of links instead of the number of pushes.
class IndexedFiller {
 public:
  explicit IndexedFiller(const std::vector<double>& capacity) : capacity_(capacity) {
    remaining_.resize(capacity.size());
    share_.resize(capacity.size());
    count_.resize(capacity.size());
    pos_.assign(capacity.size(), -1);
    flows_on_.resize(capacity.size());
    changed_mark_.resize(capacity.size());
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
    heap_.clear();
    for (std::int32_t link : touched_) {
      share_[link] = remaining_[link] / count_[link];
      pos_[link] = static_cast<std::int32_t>(heap_.size());
      heap_.push_back(link);
      SiftUp(heap_.size() - 1);
    }
    frozen_.assign(n, false);
    while (!heap_.empty()) {
      const std::int32_t link = heap_.front();
      Remove(0);
      const double share = std::max(0.0, share_[link]);
      changed_.clear();
      for (std::int32_t f : flows_on_[link]) {
        if (frozen_[f]) continue;
        frozen_[f] = true;
        rates[f] = share;
        for (std::int32_t other : *paths[f]) {
          remaining_[other] -= share;
          --count_[other];
          if (!changed_mark_[other]) {
            changed_mark_[other] = true;
            changed_.push_back(other);
          }
        }
      }
      for (std::int32_t other : changed_) {
        changed_mark_[other] = false;
        if (other == link || pos_[other] < 0) continue;
        if (count_[other] > 0) {
          share_[other] = remaining_[other] / count_[other];
          SiftDown(static_cast<std::size_t>(pos_[other]));
        } else {
          Remove(static_cast<std::size_t>(pos_[other]));
        }
      }
    }
    for (std::int32_t link : touched_) count_[link] = 0;
  }

 private:
  bool Less(std::int32_t a, std::int32_t b) const {
    return share_[a] < share_[b] || (share_[a] == share_[b] && a < b);
  }
  void Place(std::size_t i, std::int32_t link) {
    heap_[i] = link;
    pos_[link] = static_cast<std::int32_t>(i);
  }
  void SiftUp(std::size_t i) {
    const std::int32_t link = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!Less(link, heap_[parent])) break;
      Place(i, heap_[parent]);
      i = parent;
    }
    Place(i, link);
  }
  void SiftDown(std::size_t i) {
    const std::int32_t link = heap_[i];
    const std::size_t size = heap_.size();
    while (true) {
      std::size_t child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && Less(heap_[child + 1], heap_[child])) ++child;
      if (!Less(heap_[child], link)) break;
      Place(i, heap_[child]);
      i = child;
    }
    Place(i, link);
  }
  void Remove(std::size_t i) {
    pos_[heap_[i]] = -1;
    const std::int32_t last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    Place(i, last);
    SiftDown(i);
    SiftUp(static_cast<std::size_t>(pos_[last]));
  }

  const std::vector<double>& capacity_;
  std::vector<double> remaining_, share_;
  std::vector<std::int32_t> count_, pos_, heap_, touched_, changed_;
  std::vector<std::vector<std::int32_t>> flows_on_;
  std::vector<bool> frozen_, changed_mark_;
};

}  // namespace

std::vector<double> MaxMinFairRates(const std::vector<double>& capacity_bytes_per_s,
                                    const std::vector<FlowPath>& paths) {
  for (double c : capacity_bytes_per_s) FS_CHECK(c > 0, "link capacity must be > 0");
  std::vector<const std::vector<std::int32_t>*> view;
  view.reserve(paths.size());
  for (const FlowPath& p : paths) view.push_back(&p.links);
  IndexedFiller filler(capacity_bytes_per_s);
  std::vector<double> rates;
  filler.Solve(view, rates);
  return rates;
}

FlowResult SimulateFlowsReference(const std::vector<double>& capacity_bytes_per_s,
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
      result.rate_solve_flows += static_cast<std::int64_t>(active.size());
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

// The event loop of SimulateFlowsReference with an incremental re-solve. Max-min fair rates
// decompose over the connected components of the flow/link graph (flows are connected when
// they share a link), and progressive filling of a union of components performs, per
// component, exactly the floating-point operations of filling that component alone (its links'
// heap entries depend only on its own flows, and pops are ordered by (share, link, count)).
// So at an event only the components touched by the flows that finished or started are
// re-solved (found by a breadth-first search from their links over the active flows); the rates
// of all other flows are those the full solve would recompute, bit for bit. The per-event
// advance and completion scans are those of the reference (same order, same arithmetic), so
// the results are identical; nothing is allocated per event once the buffers have grown.
FlowResult SimulateFlows(const std::vector<double>& capacity_bytes_per_s,
                         const std::vector<FlowSpec>& flows) {
  for (double c : capacity_bytes_per_s) FS_CHECK(c > 0, "link capacity must be > 0");
  const std::size_t n = flows.size();
  const std::size_t links = capacity_bytes_per_s.size();
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
    for (std::int32_t link : flows[f].links) {
      FS_CHECK(link >= 0 && static_cast<std::size_t>(link) < links,
               "flow path names a link out of range");
    }
  }
  using Start = std::pair<std::int64_t, std::int32_t>;  // start time (ps), flow
  std::priority_queue<Start, std::vector<Start>, std::greater<>> starts;
  for (std::size_t f = 0; f < n; ++f) {
    if (waiting[f] == 0) starts.push({flows[f].delay.ps(), static_cast<std::int32_t>(f)});
  }

  IndexedFiller filler(capacity_bytes_per_s);
  std::vector<std::int32_t> active, still, finished;  // active: sorted by flow index
  std::vector<double> remaining(n, 0), rate(n, 0), component_rates;
  // Active flows on each link (any order: a component is sorted before it is solved).
  std::vector<std::vector<std::int32_t>> on_link(links);
  // Links of flows that finished or started since the last solve; visit marks for the search.
  std::vector<std::int32_t> seeds, stack, component;
  std::vector<std::uint32_t> link_mark(links, 0), flow_mark(n, 0);
  std::uint32_t epoch = 0;
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
  const auto resolve = [&] {
    ++epoch;
    component.clear();
    stack.clear();
    for (std::int32_t link : seeds) {
      if (link_mark[link] == epoch) continue;
      link_mark[link] = epoch;
      stack.push_back(link);
    }
    seeds.clear();
    while (!stack.empty()) {
      const std::int32_t link = stack.back();
      stack.pop_back();
      for (std::int32_t f : on_link[link]) {
        if (flow_mark[f] == epoch) continue;
        flow_mark[f] = epoch;
        component.push_back(f);
        for (std::int32_t other : flows[f].links) {
          if (link_mark[other] == epoch) continue;
          link_mark[other] = epoch;
          stack.push_back(other);
        }
      }
    }
    std::sort(component.begin(), component.end());
    paths.clear();
    for (std::int32_t f : component) paths.push_back(&flows[f].links);
    filler.Solve(paths, component_rates);
    for (std::size_t i = 0; i < component.size(); ++i) rate[component[i]] = component_rates[i];
    result.rate_solve_flows += static_cast<std::int64_t>(component.size());
  };

  while (done < n) {
    if (dirty) {
      resolve();
      ++result.rate_solves;
      dirty = false;
    }
    // Next completion among active flows.
    std::int64_t next = std::numeric_limits<std::int64_t>::max();
    for (std::int32_t f : active) {
      if (!(rate[f] > 0)) continue;  // starved (rounding): waits for the next event
      const double seconds = remaining[f] / rate[f];
      const auto ps = static_cast<std::int64_t>(std::ceil(seconds * 1e12));
      next = std::min(next, now + std::max<std::int64_t>(ps, 0));
    }
    if (!starts.empty()) next = std::min(next, starts.top().first);
    FS_CHECK(next != std::numeric_limits<std::int64_t>::max(), "flow simulation stalled");
    const double dt = static_cast<double>(next - now) * 1e-12;
    now = next;
    // Advance and complete.
    still.clear();
    finished.clear();
    for (std::int32_t f : active) {
      remaining[f] -= rate[f] * dt;
      // Done when what is left takes at most one picosecond (rounding of the event time).
      if (remaining[f] <= rate[f] * 1e-12 + 1e-9 * flows[f].bytes) {
        finished.push_back(f);
      } else {
        still.push_back(f);
      }
    }
    active.swap(still);
    for (std::int32_t f : finished) {
      for (std::int32_t link : flows[f].links) {
        std::vector<std::int32_t>& on = on_link[link];
        *std::find(on.begin(), on.end(), f) = on.back();
        on.pop_back();
        seeds.push_back(link);
      }
      dirty = true;
    }
    for (std::int32_t f : finished) complete(f, now);
    // Start flows due now (zero-byte or unconstrained flows complete at once, possibly
    // readying further flows at the same instant).
    bool started = false;
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
      for (std::int32_t link : flows[f].links) {
        on_link[link].push_back(f);
        seeds.push_back(link);
      }
      dirty = true;
      started = true;
    }
    if (started) std::sort(active.begin(), active.end());
  }
  for (std::size_t f = 0; f < n; ++f) result.makespan = Max(result.makespan, result.finish[f]);
  return result;
}

}  // namespace foresight::sim
