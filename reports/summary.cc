#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "plan/cost.h"
#include "reports/reports.h"

namespace foresight::reports {
namespace {

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string GiB(double bytes) { return Format("%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0)); }

std::string Seconds(double s) {
  if (s >= 1.0) return Format("%.3f s", s);
  return Format("%.2f ms", s * 1e3);
}

// Thousands separators for a non-negative count.
std::string Grouped(double v) {
  std::string digits = std::to_string(static_cast<long long>(std::llround(v)));
  std::string out;
  const int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += ',';
    out += digits[static_cast<std::size_t>(i)];
  }
  return out;
}

std::string Bar(double fraction, int width) {
  const int filled = static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * width));
  std::string out;
  for (int i = 0; i < width; ++i) out += i < filled ? "#" : ".";
  return out;
}

std::string Pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string LeftPad(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

// ", offload optimizer+activations to cpu", or nothing.
// Context/expert/sequence parallelism, only when used (so plain plans print as before).
std::string ParallelismText(const plan::Plan& p) {
  std::string out;
  if (p.cp > 1) {
    out += "  cp " + std::to_string(p.cp) +
           (p.cp_comm == ops::CpComm::kRing ? " (ring)" : " (allgather)");
  }
  if (p.ep > 1) out += "  ep " + std::to_string(p.ep);
  if (p.sequence_parallel) out += "  sequence parallel";
  return out;
}

std::string OffloadText(const plan::Plan& p) {
  std::string what;
  auto add = [&what](bool on, const char* name) {
    if (!on) return;
    what += what.empty() ? name : std::string("+") + name;
  };
  add(p.offload.optimizer, "optimizer");
  add(p.offload.activations, "activations");
  add(p.offload.params, "params");
  return what.empty() ? what : ", offload " + what + " to cpu";
}

// " (triton_flash, 32.5% of peak)" for a named attention kernel; nothing for the default.
std::string AttentionKernelText(const plan::Plan& p, const hw::GpuSpec& gpu) {
  if (p.attention_kernel.empty()) return "";
  return " (" + p.attention_kernel +
         Format(", %.1f%% of peak)", plan::AttentionEfficiencyFor(p, gpu) * 100);
}

}  // namespace

std::string RenderSummary(const scenarios::Scenario& s, const plan::StepResult& r) {
  const plan::Plan& p = s.plan;
  const ops::ModelConfig& m = s.model;
  std::string o;
  o += "foresight: " + s.name + "\n\n";
  o += "  cluster   " + std::to_string(s.cluster.nodes) + " x " + s.hardware.name + " (" +
       std::to_string(s.cluster.gpus_per_node) + " GPUs/node) = " + std::to_string(r.world_size) +
       " GPUs\n";
  o += "  model     " + (m.preset.empty() ? std::string("custom") : m.preset) + ": " +
       std::to_string(m.layers) + " layers, hidden " + std::to_string(m.hidden) + ", " +
       std::to_string(m.heads) + " heads, seq " + std::to_string(m.seq_len) + ", " +
       Format("%.2f B parameters", static_cast<double>(ops::CountParameters(m).total) / 1e9) + "\n";
  o += "  plan      tp " + std::to_string(p.tp) + "  pp " + std::to_string(p.pp) + "  dp " +
       std::to_string(p.dp) + ParallelismText(p) + "  " +
       std::string(plan::ScheduleName(p.schedule)) + ", " + std::to_string(r.micro_batches) +
       " micro-batches of " + std::to_string(s.training.micro_batch) + ", recompute " +
       std::string(plan::RecomputeName(p.recompute)) +
       (p.recompute == plan::Recompute::kFull && p.recompute_layers > 0
            ? " (" + std::to_string(plan::RecomputedLayersPerStage(m, p)) + " layers per stage)"
            : std::string()) +
       (p.zero > 0 ? ", zero " + std::to_string(p.zero) : std::string()) + OffloadText(p) +
       (p.flash_attention ? ", flash attention" + AttentionKernelText(p, s.hardware.gpu)
                          : ", unfused attention") +
       ", fusion " + p.fusion_preset + ", " + std::string(DtypeName(s.training.dtype)) + "\n\n";

  o += "  step time              " + Seconds(r.step_time_s) + "\n";
  o += "  throughput             " + Grouped(r.tokens_per_s) + " tokens/s, " +
       Format("%.2f samples/s", r.samples_per_s) + "\n";
  o += "  model FLOPs            " + Format("%.1f TFLOP/s per GPU", r.model_tflops_per_gpu) +
       Format("   MFU %.1f%%", r.mfu * 100) + "\n";
  o += "  hardware FLOPs         " + Format("%.1f TFLOP/s per GPU", r.hardware_tflops_per_gpu) +
       Format("   HFU %.1f%%", r.hfu * 100) + "\n\n";

  o += "  where the time goes (mean over " + std::to_string(r.stages.size()) + " pipeline stage" +
       (r.stages.size() == 1 ? "" : "s") + ")\n";
  std::vector<std::pair<const char*, double>> parts = {{"compute", r.time.compute_s},
                                                       {"exposed comm", r.time.exposed_comm_s},
                                                       {"bubble", r.time.bubble_s},
                                                       {"other (optimizer)", r.time.other_s}};
  // Only with gpu.interference set (docs/model.md section 1).
  if (r.time.interference_s > 0) parts.emplace_back("overlap slowdown", r.time.interference_s);
  for (const auto& [label, secs] : parts) {
    const double frac = r.step_time_s > 0 ? secs / r.step_time_s : 0;
    o += "    " + Pad(label, 19) + LeftPad(Seconds(secs), 11) +
         LeftPad(Format("%.1f%%", frac * 100), 8) + "  " + Bar(frac, 30) + "\n";
  }
  o += "\n";

  const plan::StageResult& peak = r.stages[static_cast<std::size_t>(r.peak_stage)];
  o += "  memory per GPU         " + GiB(r.peak_bytes) + " of " + GiB(r.capacity_bytes) +
       " (stage " + std::to_string(r.peak_stage) + ")  " + (r.fits ? "fits" : "DOES NOT FIT") +
       "\n";
  o += "    weights " + GiB(peak.breakdown.weights) + ", gradients " +
       GiB(peak.breakdown.gradients) + ", optimizer " + GiB(peak.breakdown.optimizer) +
       ", activations " + GiB(peak.breakdown.activations) + ", other " + GiB(peak.breakdown.other) +
       "\n";
  if (r.host_peak_bytes > 0) {
    o += "  host memory per node   " + GiB(r.host_peak_bytes) + " of " +
         GiB(r.host_capacity_bytes) + "  " + (r.host_fits ? "fits" : "DOES NOT FIT") + "\n";
  }
  if (!r.fits) o += "    " + r.fits_detail + "\n";
  if (r.stages.size() > 1) {
    o += "\n    stage   peak memory   compute   exposed comm    bubble\n";
    for (const plan::StageResult& st : r.stages) {
      o += "    " + LeftPad(std::to_string(st.stage), 5) + LeftPad(GiB(st.peak_bytes), 14) +
           LeftPad(Seconds(st.time.compute_s), 10) + LeftPad(Seconds(st.time.exposed_comm_s), 15) +
           LeftPad(Seconds(st.time.bubble_s), 10) + "\n";
    }
  }
  return o;
}

}  // namespace foresight::reports
