#include "plan/simulate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "plan/memory.h"
#include "plan/parallel.h"

namespace foresight::plan {
namespace {

using Interval = std::pair<std::int64_t, std::int64_t>;  // [start, end) in ps

// Union of two sorted lists of intervals (each list sorted by start, non-overlapping within a
// list), as a sorted list of disjoint intervals.
std::vector<Interval> Union(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::vector<Interval> merged;
  merged.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(merged));
  std::vector<Interval> out;
  for (const Interval& iv : merged) {
    if (iv.second <= iv.first) continue;
    if (!out.empty() && iv.first <= out.back().second) {
      out.back().second = std::max(out.back().second, iv.second);
    } else {
      out.push_back(iv);
    }
  }
  return out;
}

// Total length of the intersection of two sorted lists of disjoint intervals.
std::int64_t IntersectionLength(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::int64_t total = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const std::int64_t lo = std::max(a[i].first, b[j].first);
    const std::int64_t hi = std::min(a[i].second, b[j].second);
    if (hi > lo) total += hi - lo;
    if (a[i].second < b[j].second) {
      ++i;
    } else {
      ++j;
    }
  }
  return total;
}

std::int64_t Length(const std::vector<Interval>& v) {
  std::int64_t total = 0;
  for (const auto& iv : v) total += iv.second - iv.first;
  return total;
}

std::string Gb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GB", bytes / 1e9);
  return buf;
}

}  // namespace

Result<StepResult> SimulateStep(const StepInput& input) {
  if (const std::vector<PlanError> errors = ValidateForHardware(input.plan, input.hardware);
      !errors.empty()) {
    return Error{errors.front().key + ": " + errors.front().message, "", 0, 0};
  }
  if (const std::vector<PlanError> errors =
          ValidateDtypeForHardware(input.training, input.hardware);
      !errors.empty()) {
    return Error{errors.front().key + ": " + errors.front().message, "", 0, 0};
  }
  StepResult result;
  result.compiled = CompileStep(input);
  const CompiledStep& c = result.compiled;
  const hw::Interference& interference = input.hardware.gpu.interference;
  Result<sim::RunResult> run =
      sim::Engine().Run(c.graph, {.compute_slowdown = interference.compute_slowdown,
                                  .comm_slowdown = interference.comm_slowdown});
  if (!run.ok()) return run.error();
  result.run = std::move(run).value();
  const sim::RunResult& r = result.run;

  const double step = r.makespan.ToSeconds();
  const auto world = input.cluster.world_size();
  const double peak = input.hardware.gpu.PeakFlopsPerS(input.training.dtype);
  result.step_time_s = step;
  result.world_size = world;
  result.micro_batches = c.micro_batches;
  result.num_tasks = c.graph.num_tasks();
  result.samples_per_s = static_cast<double>(input.training.global_batch) / step;
  result.tokens_per_s = result.samples_per_s * static_cast<double>(input.model.seq_len);
  result.model_flops_per_step = c.model_flops_per_step;
  result.hardware_flops_per_step = c.hardware_flops_per_step;
  result.model_tflops_per_gpu = c.model_flops_per_step / step / static_cast<double>(world) / 1e12;
  result.hardware_tflops_per_gpu =
      c.hardware_flops_per_step / step / static_cast<double>(world) / 1e12;
  result.mfu = c.model_flops_per_step / (step * static_cast<double>(world) * peak);
  result.hfu = c.hardware_flops_per_step / (step * static_cast<double>(world) * peak);

  // Time breakdown per stage (see simulate.h).
  const std::size_t stages = c.stages.size();
  std::vector<std::vector<Interval>> compute_busy(stages), comm_side(stages), p2p_side(stages),
      host_busy(stages);
  std::vector<TimeBreakdown> times(stages);
  // Per stage: picoseconds of compute, optimizer and own (TP) communication on the compute
  // stream, summed exactly in integers and converted once.
  // [3]: picoseconds the compute stream's tasks ran beyond their durations (interference).
  std::vector<std::array<std::int64_t, 4>> own(stages, {0, 0, 0, 0});
  for (sim::TaskId t = 0; t < c.graph.num_tasks(); ++t) {
    const sim::StreamId stream = c.graph.stream(t);
    const auto stage = static_cast<std::size_t>(c.graph.stream_info(stream).rank);
    const StageInfo& info = c.stages[stage];
    const Interval iv{r.start[t].ps(), r.end[t].ps()};
    if (stream == info.compute_stream) {
      compute_busy[stage].push_back(iv);
      // A compute-stream task's own communication (TP all-reduces) is exposed by definition.
      const Segment& seg = c.segments[static_cast<std::size_t>(c.graph.tag(t))];
      own[stage][0] += seg.compute_time.ps();
      own[stage][1] += seg.optimizer_time.ps();
      own[stage][2] += seg.comm_time.ps();
      own[stage][3] += (r.end[t] - r.start[t] - c.graph.duration(t)).ps();
    } else if (stream == info.comm_stream) {
      comm_side[stage].push_back(iv);
    } else if (stream == info.host_stream) {
      host_busy[stage].push_back(iv);
    } else {
      p2p_side[stage].push_back(iv);
    }
  }
  for (std::size_t s = 0; s < stages; ++s) {
    times[s].compute_s = static_cast<double>(own[s][0]) * 1e-12;
    times[s].other_s = static_cast<double>(own[s][1]) * 1e-12;
    times[s].exposed_comm_s = static_cast<double>(own[s][2]) * 1e-12;
    times[s].interference_s = static_cast<double>(own[s][3]) * 1e-12;
  }
  for (std::size_t s = 0; s < stages; ++s) {
    // Streams other than compute, comm and host (p2p, d2h, h2d) are in stream-id order, so
    // their interval list is sorted only per stream: sort before the union.
    std::sort(p2p_side[s].begin(), p2p_side[s].end());
    const std::vector<Interval> side = Union(comm_side[s], p2p_side[s]);
    const std::vector<Interval> busy = Union(compute_busy[s], {});
    TimeBreakdown& tb = times[s];
    if (!host_busy[s].empty()) {
      // The host Adam counts as other where no compute runs; communication is exposed where
      // neither runs.
      const std::vector<Interval> host = Union(host_busy[s], {});
      const std::vector<Interval> busy_or_host = Union(busy, host);
      tb.other_s += static_cast<double>(Length(host) - IntersectionLength(host, busy)) * 1e-12;
      tb.exposed_comm_s +=
          static_cast<double>(Length(side) - IntersectionLength(side, busy_or_host)) * 1e-12;
    } else {
      tb.exposed_comm_s +=
          static_cast<double>(Length(side) - IntersectionLength(side, busy)) * 1e-12;
    }
    tb.bubble_s =
        std::max(0.0, step - tb.compute_s - tb.other_s - tb.exposed_comm_s - tb.interference_s);
    result.time.compute_s += tb.compute_s / static_cast<double>(stages);
    result.time.exposed_comm_s += tb.exposed_comm_s / static_cast<double>(stages);
    result.time.other_s += tb.other_s / static_cast<double>(stages);
    result.time.bubble_s += tb.bubble_s / static_cast<double>(stages);
    result.time.interference_s += tb.interference_s / static_cast<double>(stages);
  }

  // Memory: the engine's peak per stage, plus the allocator-fragmentation allowance.
  const double frag = input.hardware.memory.fragmentation_fraction;
  result.capacity_bytes = static_cast<double>(input.hardware.gpu.memory_bytes);
  for (std::size_t s = 0; s < stages; ++s) {
    const sim::PoolUsage& usage = r.pools[static_cast<std::size_t>(c.stages[s].pool)];
    StageResult sr;
    sr.stage = static_cast<std::int32_t>(s);
    MemoryBreakdown& b = sr.breakdown;
    b.weights = static_cast<double>(usage.peak_breakdown[kWeights]);
    b.gradients = static_cast<double>(usage.peak_breakdown[kGradients]);
    b.optimizer = static_cast<double>(usage.peak_breakdown[kOptimizerStates]);
    b.activations = static_cast<double>(usage.peak_breakdown[kActivations]);
    // Whole bytes: the allowance is rounded once, to the nearest byte.
    b.other = static_cast<double>(usage.peak_breakdown[kOther]) +
              std::round(frag * (b.weights + b.gradients + b.optimizer + b.activations));
    sr.peak_bytes = b.total();
    sr.time = times[s];
    const StageInfo& info = c.stages[s];
    sr.params_per_rank = info.params_per_rank;
    sr.activation_bytes_per_micro_batch = info.saved_activation_bytes_per_micro_batch;
    sr.micro_batches_in_flight = info.max_in_flight;
    sr.recomputed_layers = info.recomputed_layers;
    const sim::PoolUsage& host = r.pools[static_cast<std::size_t>(info.host_pool)];
    sr.host_peak_bytes = static_cast<double>(host.peak_bytes);
    sr.host_breakdown.weights = static_cast<double>(host.peak_breakdown[kWeights]);
    sr.host_breakdown.gradients = static_cast<double>(host.peak_breakdown[kGradients]);
    sr.host_breakdown.optimizer = static_cast<double>(host.peak_breakdown[kOptimizerStates]);
    sr.host_breakdown.activations = static_cast<double>(host.peak_breakdown[kActivations]);
    if (sr.peak_bytes > result.peak_bytes) {
      result.peak_bytes = sr.peak_bytes;
      result.peak_stage = sr.stage;
    }
    result.stages.push_back(sr);
  }
  const bool device_fits = result.peak_bytes <= result.capacity_bytes;
  if (!device_fits) {
    result.fits_detail = "stage " + std::to_string(result.peak_stage) + " needs " +
                         Gb(result.peak_bytes) + " of GPU memory, more than the " +
                         Gb(result.capacity_bytes) + " of " + input.hardware.gpu.name;
  }

  // Host memory per node: the GPUs of node n are ranks [n*gpn, (n+1)*gpn); rank r is on stage
  // r / (tp*cp*dp) (Megatron's tp-cp-dp-pp rank order).
  const std::int64_t gpn = input.cluster.gpus_per_node;
  const std::int64_t ranks_per_stage = input.plan.tp * input.plan.cp * input.plan.dp;
  result.host_capacity_bytes = static_cast<double>(input.hardware.host.memory_bytes);
  for (std::int64_t node = 0; node < input.cluster.nodes; ++node) {
    double used = 0;
    for (std::int64_t rank = node * gpn; rank < (node + 1) * gpn; ++rank) {
      used += result.stages[static_cast<std::size_t>(rank / ranks_per_stage)].host_peak_bytes;
    }
    result.host_peak_bytes = std::max(result.host_peak_bytes, used);
  }
  result.host_fits =
      result.host_peak_bytes == 0 || result.host_peak_bytes <= result.host_capacity_bytes;
  if (!result.host_fits) {
    if (!result.fits_detail.empty()) result.fits_detail += "; ";
    result.fits_detail += "a node's GPUs offload " + Gb(result.host_peak_bytes) +
                          " to host memory, more than its " + Gb(result.host_capacity_bytes);
  }
  result.fits = device_fits && result.host_fits;
  return result;
}

}  // namespace foresight::plan
