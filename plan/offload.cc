// Host (CPU) offload: PCIe copies on the d2h and h2d streams and the CPU Adam step on the host
// stream (plan/internal/compiler.h). Copies are priced by PcieCopySeconds, the host Adam by
// HostAdamSeconds (plan/memory.h).
//
// Activation offload (as PyTorch's save_on_cpu / Megatron's CPU activation offloading): when a
// forward ends, the activations its micro-batch keeps are copied to the host on the d2h stream,
// overlapping the next compute, and their device memory is freed when the copy ends; before the
// backward they are fetched on the h2d stream, starting when the compute slot before the
// backward starts (one slot of prefetch), and the backward waits for the fetch.
//
// Optimizer offload (ZeRO-Offload, Ren et al. 2021): after the last gradient reduction the
// rank's gradient shard goes device->host, the host runs Adam on it, and the updated
// low-precision parameters go host->device (unless offload.params keeps them on the host).
#include "plan/internal/compiler.h"

namespace foresight::plan::internal {

TaskId Compiler::EmitActivationOffload(std::int64_t s, TaskId fwd_last) {
  const StageInfo& info = VInfo(s);
  const double bytes = Build(s).saved;
  auto& g = out_.graph;
  const TaskId copy = AddOpTask(info.d2h_stream, "activation_offload", WorkClass::kComm, bytes,
                                PcieCopySeconds(in_.hardware, bytes), ops::Pass::kForward);
  g.AddEdge(fwd_last, copy);
  const auto b = static_cast<std::int64_t>(bytes);
  g.AddMemoryEvent(copy, info.host_pool, kActivations, false, b);
  g.AddMemoryEvent(copy, info.pool, kActivations, true, -b);
  return copy;
}

TaskId Compiler::EmitActivationFetch(std::int64_t s, TaskId offload, TaskId gate) {
  const StageInfo& info = VInfo(s);
  const double bytes = Build(s).saved;
  auto& g = out_.graph;
  const TaskId fetch = AddOpTask(info.h2d_stream, "activation_fetch", WorkClass::kComm, bytes,
                                 PcieCopySeconds(in_.hardware, bytes), ops::Pass::kBackward);
  g.AddEdge(offload, fetch);
  if (gate >= 0) g.AddEdge(gate, fetch);
  const auto b = static_cast<std::int64_t>(bytes);
  g.AddMemoryEvent(fetch, info.pool, kActivations, false, b);
  g.AddMemoryEvent(fetch, info.host_pool, kActivations, true, -b);
  return fetch;
}

TaskId Compiler::EmitHostOptimizer(std::int64_t s, double params,
                                   const std::vector<TaskId>& waits) {
  const StageInfo& info = Info(s);
  auto& g = out_.graph;
  const double bytes = params * dtype_bytes_;
  const TaskId grads = AddOpTask(info.d2h_stream, "optimizer_grad_offload", WorkClass::kComm, bytes,
                                 PcieCopySeconds(in_.hardware, bytes), ops::Pass::kBackward);
  for (TaskId t : waits) g.AddEdge(t, grads);
  // The host's own Adam work is not simulated per core; HostAdamSeconds prices it.
  const TaskId adam = AddOpTask(info.host_stream, "host_adam_step", WorkClass::kOptimizer, bytes,
                                HostAdamSeconds(in_.hardware, params, in_.cluster.gpus_per_node),
                                ops::Pass::kBackward);
  g.AddEdge(grads, adam);
  if (in_.plan.offload.params) return adam;
  const TaskId back = AddOpTask(info.h2d_stream, "optimizer_param_upload", WorkClass::kComm, bytes,
                                PcieCopySeconds(in_.hardware, bytes), ops::Pass::kBackward);
  g.AddEdge(adam, back);
  return back;
}

}  // namespace foresight::plan::internal
