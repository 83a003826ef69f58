// Emission of a step's pipeline: each rank's compute-stream tasks in schedule order
// (EmitSchedule), the pipeline sends between virtual stages (SendSegment, EmitPipelineSends),
// and the start alignment of overlapped TP communication (AlignTpCompanions). Split from
// compile.cc, which builds each chunk's ops; see compile.h for the whole design.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "base/check.h"
#include "models/hw/collective.h"
#include "plan/internal/compiler.h"
#include "plan/schedule.h"

namespace foresight::plan::internal {
// The compute-stream tasks of rank s in schedule order, with their memory events and the
// communication each pass needs (zero.cc, offload.cc); with overlap.p2p off also the pipeline
// sends, which then occupy the compute stream right after the pass they send from.
void Compiler::EmitSchedule(std::int64_t s) {
  const Plan& plan = in_.plan;
  const std::int64_t m = micro_batches_;
  const StageInfo info = Info(s);
  auto& g = out_.graph;
  for (std::int64_t c = 0; c < vpp_; ++c) {
    StageBuild& b = Build(c * plan.pp + s);
    b.fwd_first.assign(static_cast<std::size_t>(m), -1);
    b.fwd_last = b.bwd_first = b.bwd_last = b.sends[0] = b.sends[1] = b.fwd_first;
  }
  std::vector<std::vector<TaskId>> offloaded(static_cast<std::size_t>(vpp_),
                                             std::vector<TaskId>(static_cast<std::size_t>(m), -1));
  const std::vector<PipelineSlot> order = PipelineOrder(plan.schedule, plan.pp, s, m, vpp_);
  Info(s).max_in_flight = MaxInFlight(order);
  const bool split_w = plan.schedule == Schedule::kZbH1;
  std::vector<bool> param_gathered(static_cast<std::size_t>(vpp_), false);
  std::vector<TaskId> slot_last;  // last compute task of each slot so far
  for (std::size_t i = 0; i < order.size(); ++i) {
    const PipelineSlot& slot = order[i];
    const std::int64_t v = slot.chunk * plan.pp + s;
    StageBuild& b = Build(v);
    const auto saved = static_cast<std::int64_t>(b.saved);
    const auto transient = static_cast<std::int64_t>(b.transient);
    const auto mb = static_cast<std::size_t>(slot.micro_batch);
    const bool last_mb = slot.micro_batch == m - 1;
    auto send = [&](bool forward, TaskId after) {
      if (plan.overlap.p2p || (forward ? v + 1 >= VirtualStages() : v == 0)) return;
      const TaskId t = SegmentTask(info.compute_stream, SendSegment(v, forward));
      g.AddEdge(after, t);
      b.sends[forward ? 0 : 1][mb] = t;
    };
    if (slot.forward) {
      // overlap.param_gather: the chunk's first forward waits per part for the all-gather of
      // the parameters the last step's optimizer updated (zero.cc).
      const bool gather_first =
          plan.overlap.param_gather && !param_gathered[static_cast<std::size_t>(slot.chunk)];
      const std::vector<TaskId> tasks = EmitSegments(
          plan.zero >= 3 || gather_first ? b.fwd_parts : b.fwd_segs, info.compute_stream);
      b.fwd_first[mb] = tasks.front();
      b.fwd_last[mb] = tasks.back();
      g.AddMemoryEvent(tasks.back(), info.pool, kActivations, true, saved);
      if (plan.zero >= 3) EmitPassComm(v, tasks, false);
      if (gather_first) {
        EmitParamGather(v, tasks);
        param_gathered[static_cast<std::size_t>(slot.chunk)] = true;
      }
      // A micro-batch whose backward comes right after its forward is not worth offloading.
      const bool backward_next = i + 1 < order.size() && !order[i + 1].forward &&
                                 order[i + 1].micro_batch == slot.micro_batch &&
                                 order[i + 1].chunk == slot.chunk;
      if (plan.offload.activations && !backward_next) {
        offloaded[static_cast<std::size_t>(slot.chunk)][mb] =
            EmitActivationOffload(v, tasks.back());
      }
      slot_last.push_back(tasks.back());
      send(true, tasks.back());
      continue;
    }
    if (slot.weight) {
      // zb-h1 W: the weight gradients; the micro-batch's activations are freed when it ends.
      std::vector<TaskId> tasks =
          EmitSegments(last_mb ? b.wgt_parts : b.wgt_segs, info.compute_stream);
      g.AddEdge(b.bwd_last[mb], tasks.front());
      g.AddMemoryEvent(tasks.back(), info.pool, kActivations, true, -saved);
      if (last_mb) {
        for (std::size_t part : b.wgt_part_of) b.bwd_parts_last_mb.push_back(tasks[part]);
      }
      slot_last.push_back(tasks.back());
      continue;
    }
    const bool split = !split_w && (last_mb || plan.zero >= 2);
    TaskId fetch = -1;
    const TaskId offload = offloaded[static_cast<std::size_t>(slot.chunk)][mb];
    if (offload >= 0) {
      const TaskId gate = slot_last.size() >= 2 ? slot_last[slot_last.size() - 2] : -1;
      fetch = EmitActivationFetch(v, offload, gate);
    }
    const std::vector<TaskId> tasks =
        EmitSegments(split ? b.bwd_parts : b.bwd_segs, info.compute_stream);
    if (fetch >= 0) g.AddEdge(fetch, tasks.front());
    b.bwd_first[mb] = tasks.front();
    b.bwd_last[mb] = tasks.back();
    if (transient > 0) g.AddMemoryEvent(tasks.front(), info.pool, kActivations, false, transient);
    g.AddMemoryEvent(tasks.back(), info.pool, kActivations, true,
                     -(split_w ? transient : saved + transient));
    if (last_mb && !split_w) b.bwd_parts_last_mb = tasks;
    if (plan.zero >= 2) EmitPassComm(v, tasks, true);
    slot_last.push_back(tasks.back());
    send(false, tasks.back());
  }
}

std::int32_t Compiler::SendSegment(std::int64_t v, bool forward) {
  // Forward activations v -> v+1, activation gradients v -> v-1 (rank pp-1's chunk c sends to
  // rank 0's chunk c+1 and back). With tp > 1 each TP rank sends 1/tp of the tensor and the
  // receivers all-gather it over the scale-up links (Megatron-LM scatter-gather optimisation).
  std::int32_t& seg = send_segs_[forward ? 0 : 1][static_cast<std::size_t>(v)];
  if (seg >= 0) return seg;
  const Plan& plan = in_.plan;
  const std::int64_t tp = plan.tp, dp = plan.dp, pp = plan.pp;
  const auto gpn = static_cast<std::int32_t>(in_.cluster.gpus_per_node);
  const double full = layer_input_bytes_;
  const std::int64_t s = v % pp, peer = (forward ? v + 1 : v - 1) % pp;
  const bool same_node = s * tp * dp / gpn == peer * tp * dp / gpn;
  double seconds =
      spans_.pricer != nullptr
          ? spans_.pricer->Seconds(hw::CollectiveOp::kSendRecv, full / static_cast<double>(tp),
                                   hw::GroupKind::kPp,
                                   hw::SpanOf(static_cast<std::int32_t>(pp), tp * dp, gpn))
          : hw::PointToPointSeconds(in_.hardware, full / static_cast<double>(tp), same_node);
  // With sequence parallelism the next stage wants the shard: no all-gather.
  if (tp > 1 && !plan.sequence_parallel) {
    seconds += CommSeconds(in_.hardware, spans_, hw::CollectiveOp::kAllGather, full,
                           hw::GroupKind::kTp, spans_.tp);
  }
  seg = OpSegment(forward ? "pp_send_activations" : "pp_send_grads", WorkClass::kComm,
                  full / static_cast<double>(tp), seconds,
                  forward ? ops::Pass::kForward : ops::Pass::kBackward);
  return seg;
}

void Compiler::EmitPipelineSends() {
  // overlap.p2p: each rank's sends run on its p2p stream in its schedule order; otherwise
  // EmitSchedule put them on the compute stream. Each send gates the peer's pass.
  const Plan& plan = in_.plan;
  for (std::int64_t s = 0; s < plan.pp; ++s) {
    const StageInfo& info = Info(s);
    for (const PipelineSlot& slot :
         PipelineOrder(plan.schedule, plan.pp, s, micro_batches_, vpp_)) {
      if (slot.weight) continue;
      const std::int64_t v = slot.chunk * plan.pp + s;
      const std::int64_t peer = slot.forward ? v + 1 : v - 1;
      if (peer < 0 || peer >= VirtualStages()) continue;
      const auto mb = static_cast<std::size_t>(slot.micro_batch);
      const StageBuild& mine = Build(v);
      const StageBuild& theirs = Build(peer);
      TaskId send = mine.sends[slot.forward ? 0 : 1][mb];
      if (send < 0) {
        send = SegmentTask(info.p2p_stream, SendSegment(v, slot.forward));
        out_.graph.AddEdge(slot.forward ? mine.fwd_last[mb] : mine.bwd_last[mb], send);
      }
      out_.graph.AddEdge(send, slot.forward ? theirs.fwd_first[mb] : theirs.bwd_first[mb]);
    }
  }
}

void Compiler::AlignTpCompanions() {
  // Each tp_comm task starts when its compute task does: it gets the compute task's
  // predecessors, the explicit ones and the task before it on the compute stream.
  if (tp_companions_.empty()) return;
  auto& g = out_.graph;
  std::vector<TaskId> companion(static_cast<std::size_t>(g.num_tasks()), -1);
  for (const auto& [task, tp] : tp_companions_) companion[static_cast<std::size_t>(task)] = tp;
  std::vector<TaskId> last_on_stream(static_cast<std::size_t>(g.num_streams()), -1);
  for (TaskId t = 0; t < g.num_tasks(); ++t) {
    TaskId& last = last_on_stream[static_cast<std::size_t>(g.stream(t))];
    if (companion[static_cast<std::size_t>(t)] >= 0 && last >= 0) {
      g.AddEdge(last, companion[static_cast<std::size_t>(t)]);
    }
    last = t;
  }
  const std::vector<std::pair<TaskId, TaskId>> edges = g.pending_edges();
  for (const auto& [before, after] : edges) {
    if (companion[static_cast<std::size_t>(after)] >= 0) {
      g.AddEdge(before, companion[static_cast<std::size_t>(after)]);
    }
  }
}

}  // namespace foresight::plan::internal
