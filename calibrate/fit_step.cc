#include "calibrate/fit_step.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <unsupported/Eigen/NonLinearOptimization>
#include <unsupported/Eigen/NumericalDiff>

#include "calibrate/internal/fit_text.h"
#include "plan/memory.h"

namespace foresight::calibrate {
namespace {

struct ParameterSpec {
  std::string_view name;
  double* (*field)(hw::HardwareProfile&);
  double scale, low, high;
  std::string_view unit;
};

const std::vector<ParameterSpec>& Specs() {
  static const std::vector<ParameterSpec> kSpecs = {
      {"gpu.gemm.max_efficiency", [](hw::HardwareProfile& p) { return &p.gpu.gemm.max_efficiency; },
       1.0, 0.05, 1.0, "1"},
      {"gpu.attention_efficiency",
       [](hw::HardwareProfile& p) { return &p.gpu.attention_efficiency; }, 1.0, 0.05, 1.0, "1"},
      {"gpu.memory.max_efficiency",
       [](hw::HardwareProfile& p) { return &p.gpu.memory.max_efficiency; }, 1.0, 0.05, 1.0, "1"},
      {"gpu.kernel_launch_seconds",
       [](hw::HardwareProfile& p) { return &p.gpu.kernel_launch_seconds; }, 1e-6, 0.0, 1e-3, "s"},
      {"gpu.gemm.k_half", [](hw::HardwareProfile& p) { return &p.gpu.gemm.k_half; }, 64.0, 0.0, 1e5,
       "elements of K"},
      {"gpu.memory.bytes_half", [](hw::HardwareProfile& p) { return &p.gpu.memory.bytes_half; },
       1e6, 0.0, 1e10, "B"},
      {"host.kernel_dispatch_seconds",
       [](hw::HardwareProfile& p) { return &p.host.kernel_dispatch_seconds; }, 1e-6, 0.0, 1e-3,
       "s"},
      // Identifiable only from runs whose communication overlaps compute (e.g. FSDP, or
      // overlapped data-parallel gradient reduction).
      {"gpu.interference.compute_slowdown",
       [](hw::HardwareProfile& p) { return &p.gpu.interference.compute_slowdown; }, 0.01, 0.0, 2.0,
       "1"},
      {"gpu.interference.comm_slowdown",
       [](hw::HardwareProfile& p) { return &p.gpu.interference.comm_slowdown; }, 0.01, 0.0, 2.0,
       "1"},
  };
  return kSpecs;
}

const ParameterSpec* FindSpec(std::string_view name) {
  for (const ParameterSpec& s : Specs()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// Shared by the copies of the functor that NumericalDiff and LevenbergMarquardt make.
struct StepProblem {
  std::vector<plan::StepInput> inputs;
  std::vector<double> measured;
  std::vector<const ParameterSpec*> specs;
  std::vector<double> high;  // upper bound per parameter (<= spec->high)
  int evaluations = 0;
  int max_evaluations = 0;
  double best_cost = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_x;
  std::string failure;

  double Value(int j, double x) const {
    return std::clamp(x * specs[j]->scale, specs[j]->low, high[static_cast<std::size_t>(j)]);
  }
  // Relative residuals at x; false when a simulation failed.
  bool Residuals(const Eigen::VectorXd& x, Eigen::VectorXd& r, std::vector<double>* sim) {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      for (std::size_t j = 0; j < specs.size(); ++j) {
        *specs[j]->field(inputs[i].hardware) = Value(static_cast<int>(j), x[j]);
      }
      auto result = plan::SimulateStep(inputs[i]);
      if (!result.ok()) {
        failure = result.error().ToString();
        return false;
      }
      r[static_cast<int>(i)] = (result->step_time_s - measured[i]) / measured[i];
      if (sim) sim->push_back(result->step_time_s);
    }
    ++evaluations;
    const double cost = r.squaredNorm();
    if (cost < best_cost) {
      best_cost = cost;
      best_x = x;
    }
    return true;
  }
};

struct StepFunctor {
  using Scalar = double;
  enum { InputsAtCompileTime = Eigen::Dynamic, ValuesAtCompileTime = Eigen::Dynamic };
  using InputType = Eigen::VectorXd;
  using ValueType = Eigen::VectorXd;
  using JacobianType = Eigen::MatrixXd;

  std::shared_ptr<StepProblem> problem;
  int inputs() const { return static_cast<int>(problem->specs.size()); }
  int values() const { return static_cast<int>(problem->measured.size()); }
  int operator()(const Eigen::VectorXd& x, Eigen::VectorXd& fvec) const {
    if (problem->evaluations >= problem->max_evaluations) return -1;  // stop: budget spent
    return problem->Residuals(x, fvec, nullptr) ? 0 : -1;
  }
};

}  // namespace

const std::vector<std::string>& StepFitParameterNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const ParameterSpec& s : Specs()) names.emplace_back(s.name);
    return names;
  }();
  return kNames;
}

std::int64_t PaddedVocab(std::int64_t vocab, std::int64_t multiple, std::int64_t tp) {
  const std::int64_t m = multiple * tp;
  return (vocab + m - 1) / m * m;
}

Result<plan::StepInput> StepInputFor(const StepRow& row, const std::string& path,
                                     const hw::HardwareProfile& hardware,
                                     const StepConventions& conventions) {
  plan::StepInput in;
  ops::ModelConfig& m = in.model;
  m.layers = row.layers;
  m.hidden = row.hidden;
  m.heads = row.heads;
  m.kv_heads = row.heads;
  m.ffn_hidden = 4 * row.hidden;
  m.activation = ops::Activation::kGelu;
  m.norm = ops::Norm::kLayerNorm;
  m.vocab = PaddedVocab(conventions.vocab, conventions.vocab_multiple, row.tp);
  m.seq_len = row.seq_len;
  m.bias = true;
  m.tied_embeddings = true;
  m.learned_positions = true;
  in.hardware = hardware;
  const std::int64_t per_node = std::min<std::int64_t>(row.gpus, hardware.node.gpus_per_node);
  in.cluster.hardware = hardware.name;
  in.cluster.nodes = (row.gpus + per_node - 1) / per_node;
  in.cluster.gpus_per_node = per_node;
  if (in.cluster.world_size() != row.gpus)
    return Error::At(
        path, row.line, 1,
        std::to_string(row.gpus) + " GPUs do not fill whole nodes of " + std::to_string(per_node));
  in.training.global_batch = row.global_batch;
  in.training.micro_batch = row.micro_batch;
  in.training.dtype = conventions.dtype;
  plan::Plan& p = in.plan;
  p.tp = row.tp;
  p.pp = row.pp;
  p.dp = row.dp;
  p.schedule = conventions.schedule;
  p.recompute = conventions.recompute;
  p.flash_attention = conventions.flash_attention;
  p.attention_kernel = conventions.attention_kernel;
  p.fusion_preset = "default";
  p.fusion = ops::FusionRules{};
  p.overlap.grad_reduce = false;
  p.overlap.p2p = false;  // Megatron's p2p: wait + torch.cuda.synchronize() (docs/validation.md)
  p.grad_bucket_bytes = std::numeric_limits<double>::max();  // one bucket: no bucketing
  if (conventions.sharding != DpSharding::kNone) {
    // FSDP (fit_step.h, DpSharding): per-block gathers and reduce-scatters, overlapped.
    p.zero = conventions.sharding == DpSharding::kFullShard ? 3 : 2;
    p.overlap.param_gather = conventions.sharding == DpSharding::kShardGradOp;
    p.overlap.grad_reduce = true;
    p.grad_bucket_bytes = 1;  // every part (block) is its own bucket: one FSDP unit each
  }
  auto errors = plan::ValidateAndResolve(in.model, in.cluster, in.training, p);
  for (plan::PlanError& e : plan::ValidateForHardware(p, hardware)) errors.push_back(std::move(e));
  if (!errors.empty())
    return Error::At(path, row.line, 1,
                     "row is not a valid plan: " + errors[0].key + ": " + errors[0].message);
  return in;
}

namespace {
// Every k-th row keeps at most max_rows of n (all when max_rows = 0).
std::size_t SubsampleStride(std::size_t n, std::size_t max_rows) {
  return max_rows == 0 || n <= max_rows ? 1 : (n + max_rows - 1) / max_rows;
}
}  // namespace

std::vector<StepRow> SubsampleRows(const std::vector<StepRow>& rows, std::size_t max_rows) {
  const std::size_t k = SubsampleStride(rows.size(), max_rows);
  if (k == 1) return rows;
  std::vector<StepRow> out;
  for (std::size_t i = 0; i < rows.size(); i += k) out.push_back(rows[i]);
  return out;
}

StepTableWithConventions WithConventions(const StepTable& table,
                                         const StepConventions& conventions) {
  return {table, std::vector<StepConventions>(table.rows.size(), conventions), ""};
}

Result<StepFitResult> FitStepTimes(const std::vector<StepTable>& tables,
                                   const hw::HardwareProfile& base, const StepFitOptions& options) {
  std::vector<StepTableWithConventions> with;
  for (const StepTable& t : tables) with.push_back(WithConventions(t, options.conventions));
  return FitStepTimes(with, base, options);
}

Result<StepFitResult> FitStepTimes(const std::vector<StepTableWithConventions>& tables,
                                   const hw::HardwareProfile& base, const StepFitOptions& options) {
  auto problem = std::make_shared<StepProblem>();
  for (const std::string& name : options.parameters) {
    const ParameterSpec* spec = FindSpec(name);
    if (!spec) {
      std::string valid;
      for (const std::string& n : StepFitParameterNames()) valid += (valid.empty() ? "" : ", ") + n;
      return Error{"unknown step-fit parameter '" + name + "'; valid: " + valid, "", 0, 0};
    }
    problem->specs.push_back(spec);
    hw::HardwareProfile copy = base;
    // The measured ceilings (gpu.gemm.max_efficiency, gpu.memory.max_efficiency,
    // gpu.attention_efficiency), not every dimensionless parameter (the interference slowdowns).
    const bool efficiency = spec->name.find("efficiency") != std::string_view::npos;
    problem->high.push_back(efficiency && options.cap_efficiency_at_base ? *spec->field(copy)
                                                                         : spec->high);
  }
  if (problem->specs.empty()) return Error{"no step-fit parameters chosen", "", 0, 0};
  std::vector<std::string> labels;
  FitSection section;
  section.title = "step time (end-to-end, plan::SimulateStep)";
  section.model = "T_step = SimulateStep(row; profile with the fitted parameters)";
  // Every row under options.conventions (only step-table-format tables, whose kind is empty).
  const bool uniform =
      std::all_of(tables.begin(), tables.end(),
                  [](const StepTableWithConventions& t) { return t.kind.empty(); });
  for (const StepTableWithConventions& with : tables) {
    const StepTable& table = with.table;
    FS_CHECK(with.conventions.size() == table.rows.size(), "one conventions entry per row");
    section.sources.push_back(table.path);
    const std::size_t k = SubsampleStride(table.rows.size(), options.max_rows);
    for (std::size_t i = 0; i < table.rows.size(); i += k) {
      const StepRow& row = table.rows[i];
      const StepConventions& conventions = with.conventions[i];
      auto input = StepInputFor(row, table.path, base, conventions);
      if (!input.ok()) return input.error();
      problem->inputs.push_back(std::move(*input));
      problem->measured.push_back(row.step_seconds);
      labels.push_back(std::string(internal::BaseName(table.path)) + ":" +
                       std::to_string(row.line) + " gpus=" + std::to_string(row.gpus) +
                       " h=" + std::to_string(row.hidden) + " L=" + std::to_string(row.layers) +
                       " B=" + std::to_string(row.global_batch) +
                       " b=" + std::to_string(row.micro_batch) + " tp=" + std::to_string(row.tp) +
                       " dp=" + std::to_string(row.dp) + " pp=" + std::to_string(row.pp));
    }
  }
  const int n = static_cast<int>(problem->specs.size());
  if (problem->measured.size() < static_cast<std::size_t>(n))
    return Error{"fewer step-table rows than fitted parameters", "", 0, 0};
  Eigen::VectorXd x(n);
  hw::HardwareProfile start = base;
  for (int j = 0; j < n; ++j) x[j] = *problem->specs[j]->field(start) / problem->specs[j]->scale;
  problem->max_evaluations = std::numeric_limits<int>::max();
  Eigen::VectorXd r(static_cast<int>(problem->measured.size()));
  std::vector<double> before_sim;
  if (!problem->Residuals(x, r, &before_sim)) return Error{problem->failure, "", 0, 0};
  std::vector<FitPoint> before_points;
  for (std::size_t i = 0; i < before_sim.size(); ++i)
    before_points.push_back({labels[i], problem->measured[i], before_sim[i], 1.0});

  // Starts: the base profile's values, and (when some parameter starts at the lower bound of its
  // range, e.g. host.kernel_dispatch_seconds = 0 in every catalog profile, where the
  // difference quotient cannot see a slope and the step cost is not convex in it) the same
  // point with those parameters at 10 x their scale (10 us for the seconds parameters; at most
  // the parameter's cap). Each start gets the full evaluation budget; the best point over all
  // starts wins (docs/validation.md, change 4).
  std::vector<Eigen::VectorXd> starts = {x};
  {
    Eigen::VectorXd lifted = x;
    bool any = false;
    for (int j = 0; j < n; ++j) {
      if (problem->Value(j, x[j]) <= problem->specs[j]->low) {
        lifted[j] =
            std::min(10.0, problem->high[static_cast<std::size_t>(j)] / problem->specs[j]->scale);
        any = true;
      }
    }
    if (any) starts.push_back(lifted);
  }
  int status = 0, total_evaluations = 0;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    Eigen::VectorXd xs = starts[k];
    const double best_before = problem->best_cost;
    problem->evaluations = 0;
    problem->max_evaluations = options.max_evaluations;
    StepFunctor functor{problem};
    // Central differences: a parameter that starts at its cap still sees a slope.
    Eigen::NumericalDiff<StepFunctor, Eigen::Central> numdiff(functor, 1e-6);
    Eigen::LevenbergMarquardt<Eigen::NumericalDiff<StepFunctor, Eigen::Central>, double> lm(
        numdiff);
    lm.parameters.maxfev = options.max_evaluations;
    const int st = lm.minimize(xs);
    if (!problem->failure.empty()) return Error{problem->failure, "", 0, 0};
    total_evaluations += problem->evaluations;
    if (k == 0 || problem->best_cost < best_before) status = st;  // the start that won
  }
  problem->evaluations = total_evaluations;
  x = problem->best_x;  // the best point evaluated (LM may stop on a trial point)

  StepFitResult result;
  result.profile = base;
  for (int j = 0; j < n; ++j) {
    const ParameterSpec& spec = *problem->specs[j];
    const double value = problem->Value(j, x[j]);
    *spec.field(result.profile) = value;
    std::string note = "was " + FormatDouble(*spec.field(start));
    if (value <= spec.low || value >= spec.high)
      note += "; at the bound of its valid range";
    else if (value >= problem->high[static_cast<std::size_t>(j)])
      note += "; at its cap (the base profile's measured ceiling)";
    section.parameters.push_back({std::string(spec.name), value, std::string(spec.unit), note});
  }
  std::vector<double> after_sim;
  problem->max_evaluations = std::numeric_limits<int>::max();
  if (!problem->Residuals(x, r, &after_sim)) return Error{problem->failure, "", 0, 0};
  for (std::size_t i = 0; i < after_sim.size(); ++i)
    section.points.push_back({labels[i], problem->measured[i], after_sim[i], 1.0});
  section.quality = ComputeQuality(section.points);
  result.before = ComputeQuality(before_points);
  section.notes.push_back("Levenberg-Marquardt status " + std::to_string(status) + " after " +
                          std::to_string(problem->evaluations) + " evaluations of " +
                          std::to_string(problem->measured.size()) + " rows (" +
                          std::to_string(starts.size()) + " start" +
                          (starts.size() > 1 ? "s" : "") + ", best kept)");
  char before[160];
  std::snprintf(before, sizeof(before),
                "before the fit (base profile): MAPE %.2f%%, median |rel| %.2f%%, worst |rel| "
                "%.2f%%",
                100 * result.before.mape, 100 * result.before.median_abs_rel,
                100 * result.before.worst_abs_rel);
  section.notes.push_back(before);
  for (const StepTableWithConventions& with : tables) {
    if (!with.kind.empty()) section.notes.push_back(with.table.path + ": " + with.kind);
  }
  const StepConventions& c = options.conventions;
  if (!uniform) {
    section.notes.push_back(
        "conventions: GPT (ffn 4h, gelu, layernorm, tied embeddings); recompute, flash "
        "attention and its kernel, dtype, sharding and vocabulary per row, from the dataset "
        "(docs/validation.md, \"Dataset formats\")");
  } else {
    section.notes.push_back(
        "conventions: GPT (ffn 4h, gelu, layernorm, tied embeddings), vocab " +
        std::to_string(c.vocab) + " padded to a multiple of " + std::to_string(c.vocab_multiple) +
        "*tp, recompute " + std::string(plan::RecomputeName(c.recompute)) + ", schedule " +
        std::string(plan::ScheduleName(c.schedule)) + ", flash attention " +
        (c.flash_attention ? "on" : "off") + ", dtype " + std::string(DtypeName(c.dtype)) +
        (c.sharding == DpSharding::kNone
             ? ", one DP gradient all-reduce after the backward (no bucketing, no overlap)"
             : std::string(", FSDP ") +
                   (c.sharding == DpSharding::kFullShard ? "FULL_SHARD (zero 3)"
                                                         : "SHARD_GRAD_OP (zero 2)") +
                   ", per-block parameter all-gathers and gradient reduce-scatters overlapped") +
        ", pipeline sends blocking the compute stream");
  }
  if (options.max_rows > 0)
    section.notes.push_back("rows subsampled: every k-th row, at most " +
                            std::to_string(options.max_rows) + " per table");
  result.section = std::move(section);
  return result;
}

}  // namespace foresight::calibrate
