// The mixture-of-experts block (Megatron-Core's MoELayer with the all-to-all token dispatcher),
// one rank, one micro-batch. Notation (internal/moe.h MoeShape): Tm router tokens, Te expert
// tokens, k = top_k, E = experts, E_l = E/ep local experts, h hidden, f_e = expert width / tp,
// n1 = 2 f_e (swiglu) or f_e, e = activation bytes, load = busiest rank's load over the mean.
//
// Forward, in issue order:
//   moe_router              GEMM Tm x E x h (router weights replicated over TP)
//   moe_router_topk         softmax over E (fp32 probabilities) and top-k selection
//   moe_permute             gathers each token k times into expert order: Tm*k rows of h
//   ep_alltoall_dispatch    all-to-all over the EP group, comm_bytes = load * Tm*k*h*e (the
//                           busiest rank's receive buffer; load = 1: each rank's send buffer)
//   tp_allgather_experts    (tp > 1) expert tensor parallelism = tp: the TP ranks gather their
//                           tokens, comm_bytes = Te*h*e
//   moe_expert_fc1          grouped GEMM, E_l experts of m = ceil(Te/E_l) x n1 x h
//   moe_expert_act          activation over Te x f_e
//   moe_expert_fc2          grouped GEMM, E_l experts of m x h x f_e
//   tp_reducescatter_experts (tp > 1) comm_bytes = Te*h*e
//   ep_alltoall_combine     all-to-all back, comm_bytes as the dispatch
//   moe_unpermute           weighted sum of each token's k expert outputs
//   shared experts          (shared_experts > 0) a dense MLP of width shared_experts * f_e
//                           (TP-sharded, with the sequence-parallel all-gather/reduce-scatter),
//                           then moe_shared_add
// Backward: the reverse, each all-to-all and TP collective again with the same bytes, data and
// weight gradients of every GEMM, and moe_input_grad_add summing the router, expert and shared
// paths' input gradients. Megatron overlaps the shared experts with the dispatch; here they run
// in sequence.
#include "models/ops/internal/moe.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"

namespace foresight::ops::internal {
namespace {

constexpr double kTopkFlops = 1;  // per router logit: compare against the running top-k

Op Batched(Op op, std::int64_t batch) {
  op.batch = batch;
  op.flops *= static_cast<double>(batch);
  op.bytes *= static_cast<double>(batch);
  return op;
}

double ActFlops(const Dims& d) { return d.swiglu ? kSwigluFlops : kGeluFlops; }
double ActBwdFlops(const Dims& d) { return d.swiglu ? kSwigluBwdFlops : kGeluBwdFlops; }

// The router is a plain linear layer outside Transformer Engine (Megatron-Core's TopKRouter
// multiplies by its own weight), so an fp8 run computes it with bf16 operands (Op::bf16_in_fp8).
Dims Bf16(const Dims& d) {
  Dims out = d;
  out.gemm_in = std::max(d.gemm_in, static_cast<double>(BytesOf(Dtype::kBf16)));
  return out;
}
Op RouterGemm(Op op) {
  op.bf16_in_fp8 = true;
  return op;
}

}  // namespace

MoeShape MakeMoeShape(const Dims& d, const ModelConfig& model) {
  const MoeConfig& moe = model.moe;
  FS_CHECK(moe.experts > 0 && moe.top_k > 0 && moe.top_k <= moe.experts,
           "moe needs experts > 0 and 0 < top_k <= experts");
  FS_CHECK(moe.experts % d.ep == 0, "ep must divide moe.experts");
  FS_CHECK(moe.expert_ffn_hidden % d.tp == 0, "tp must divide moe.expert_ffn_hidden");
  FS_CHECK(d.tp == 1 || d.sp, "MoE with tp > 1 needs sequence parallelism");
  FS_CHECK(moe.load_imbalance >= 1, "moe.load_imbalance must be >= 1");
  MoeShape s;
  s.router_tokens = static_cast<double>(SequenceShard(d).tokens);
  s.load = moe.capacity_factor > 0 ? std::min(moe.load_imbalance, moe.capacity_factor)
                                   : moe.load_imbalance;
  s.expert_tokens = s.load * s.router_tokens * static_cast<double>(moe.top_k * d.tp);
  s.local_experts = moe.experts / d.ep;
  s.tokens_per_expert =
      static_cast<std::int64_t>(std::ceil(s.expert_tokens / static_cast<double>(s.local_experts)));
  s.expert_ffn = moe.expert_ffn_hidden / d.tp;
  s.shared_ffn = moe.shared_experts * moe.expert_ffn_hidden / d.tp;
  return s;
}

void MoeForward(std::vector<Op>& ops, const Dims& d, const ModelConfig& model,
                const FusionRules& f) {
  (void)f;
  const MoeShape s = MakeMoeShape(d, model);
  const auto tm = static_cast<std::int64_t>(s.router_tokens);
  const auto k = static_cast<double>(model.moe.top_k);
  const auto E = static_cast<double>(model.moe.experts);
  const auto h = static_cast<double>(d.h);
  const double e = d.act;
  const double Tm = s.router_tokens;
  const std::int64_t n1 = d.swiglu ? 2 * s.expert_ffn : s.expert_ffn;
  const double a2a = s.load * Tm * k * h * e;

  ops.push_back(
      RouterGemm(LinearForward("moe_router", tm, model.moe.experts, d.h, Bf16(d), false)));
  ops.push_back(MakeKernel("moe_router_topk", OpKind::kElementwise, Pass::kForward,
                           (kSoftmaxFlops + kTopkFlops) * Tm * E,
                           Tm * E * (e + kFp32Bytes) + Tm * k * (kFp32Bytes + kIndexBytes)));
  ops.push_back(MakeKernel("moe_permute", OpKind::kElementwise, Pass::kForward, 0,
                           Tm * h * e + Tm * k * h * e + Tm * k * kIndexBytes));
  if (d.ep > 1) {
    ops.push_back(MakeCollective("ep_alltoall_dispatch", Pass::kForward, CommGroup::kExpert,
                                 CollectiveKind::kAllToAll, a2a));
  }
  const double te_bytes = s.expert_tokens * h * e;
  if (d.tp > 1) {
    ops.push_back(MakeCollective("tp_allgather_experts", Pass::kForward, CommGroup::kTensor,
                                 CollectiveKind::kAllGather, te_bytes));
  }
  ops.push_back(Batched(LinearForward("moe_expert_fc1", s.tokens_per_expert, n1, d.h, d, false),
                        s.local_experts));
  const double fe_elems = s.expert_tokens * static_cast<double>(s.expert_ffn);
  const double n1_elems = s.expert_tokens * static_cast<double>(n1);
  ops.push_back(MakeKernel("moe_expert_act", OpKind::kElementwise, Pass::kForward,
                           ActFlops(d) * fe_elems, (n1_elems + fe_elems) * e));
  ops.push_back(
      Batched(LinearForward("moe_expert_fc2", s.tokens_per_expert, d.h, s.expert_ffn, d, false),
              s.local_experts));
  if (d.tp > 1) {
    ops.push_back(MakeCollective("tp_reducescatter_experts", Pass::kForward, CommGroup::kTensor,
                                 CollectiveKind::kReduceScatter, te_bytes));
  }
  if (d.ep > 1) {
    ops.push_back(MakeCollective("ep_alltoall_combine", Pass::kForward, CommGroup::kExpert,
                                 CollectiveKind::kAllToAll, a2a));
  }
  ops.push_back(MakeKernel("moe_unpermute", OpKind::kElementwise, Pass::kForward, 2 * Tm * k * h,
                           Tm * k * h * e + Tm * k * kFp32Bytes + Tm * h * e));
  if (s.shared_ffn > 0) {
    const double full = d.TokenElems(d.h) * e;
    const std::int64_t sn1 = d.swiglu ? 2 * s.shared_ffn : s.shared_ffn;
    const double sf = d.TokenElems(s.shared_ffn);
    if (d.sp) ops.push_back(TpGather(Pass::kForward, full));
    ops.push_back(LinearForward("moe_shared_fc1", d.tokens, sn1, d.h, d, false));
    ops.push_back(MakeKernel("moe_shared_act", OpKind::kElementwise, Pass::kForward,
                             ActFlops(d) * sf, (d.TokenElems(sn1) + sf) * e));
    ops.push_back(LinearForward("moe_shared_fc2", d.tokens, d.h, s.shared_ffn, d, false));
    if (d.tp > 1) ops.push_back(TpReduce(d, Pass::kForward, full));
    ops.push_back(MakeKernel("moe_shared_add", OpKind::kElementwise, Pass::kForward,
                             kAddFlops * Tm * h, 3 * Tm * h * e));
  }
}

void MoeBackward(std::vector<Op>& ops, const Dims& d, const ModelConfig& model,
                 const FusionRules& f) {
  (void)f;
  const MoeShape s = MakeMoeShape(d, model);
  const auto tm = static_cast<std::int64_t>(s.router_tokens);
  const auto k = static_cast<double>(model.moe.top_k);
  const auto E = static_cast<double>(model.moe.experts);
  const auto h = static_cast<double>(d.h);
  const double e = d.act;
  const double Tm = s.router_tokens;
  const std::int64_t n1 = d.swiglu ? 2 * s.expert_ffn : s.expert_ffn;
  const double a2a = s.load * Tm * k * h * e;
  const double te_bytes = s.expert_tokens * h * e;
  const std::int64_t m = s.tokens_per_expert;

  if (s.shared_ffn > 0) {
    const double full = d.TokenElems(d.h) * e;
    const std::int64_t sn1 = d.swiglu ? 2 * s.shared_ffn : s.shared_ffn;
    const double sf = d.TokenElems(s.shared_ffn);
    if (d.sp) ops.push_back(TpGather(Pass::kBackward, full));
    ops.push_back(LinearDgrad("moe_shared_fc2", d.tokens, d.h, s.shared_ffn, d));
    ops.push_back(LinearWgrad("moe_shared_fc2", d.tokens, d.h, s.shared_ffn, d, false));
    ops.push_back(MakeKernel("moe_shared_act_bwd", OpKind::kElementwise, Pass::kBackward,
                             ActBwdFlops(d) * sf, (sf + 2 * d.TokenElems(sn1)) * e));
    ops.push_back(LinearDgrad("moe_shared_fc1", d.tokens, sn1, d.h, d));
    if (d.tp > 1) ops.push_back(TpReduce(d, Pass::kBackward, full));
    ops.push_back(LinearWgrad("moe_shared_fc1", d.tokens, sn1, d.h, d, false));
  }
  // Reads dY, the saved expert outputs and probabilities; writes the expert-output gradients
  // and the probability gradients.
  ops.push_back(MakeKernel("moe_unpermute_bwd", OpKind::kElementwise, Pass::kBackward,
                           2 * Tm * k * h,
                           Tm * h * e + 2 * Tm * k * h * e + 2 * Tm * k * kFp32Bytes));
  if (d.ep > 1) {
    ops.push_back(MakeCollective("ep_alltoall_combine_bwd", Pass::kBackward, CommGroup::kExpert,
                                 CollectiveKind::kAllToAll, a2a));
  }
  if (d.tp > 1) {
    ops.push_back(MakeCollective("tp_allgather_experts_bwd", Pass::kBackward, CommGroup::kTensor,
                                 CollectiveKind::kAllGather, te_bytes));
  }
  ops.push_back(Batched(LinearDgrad("moe_expert_fc2", m, d.h, s.expert_ffn, d), s.local_experts));
  ops.push_back(
      Batched(LinearWgrad("moe_expert_fc2", m, d.h, s.expert_ffn, d, false), s.local_experts));
  const double fe_elems = s.expert_tokens * static_cast<double>(s.expert_ffn);
  const double n1_elems = s.expert_tokens * static_cast<double>(n1);
  ops.push_back(MakeKernel("moe_expert_act_bwd", OpKind::kElementwise, Pass::kBackward,
                           ActBwdFlops(d) * fe_elems, (fe_elems + 2 * n1_elems) * e));
  ops.push_back(Batched(LinearDgrad("moe_expert_fc1", m, n1, d.h, d), s.local_experts));
  if (d.tp > 1) {
    ops.push_back(MakeCollective("tp_reducescatter_experts_bwd", Pass::kBackward,
                                 CommGroup::kTensor, CollectiveKind::kReduceScatter, te_bytes));
  }
  ops.push_back(Batched(LinearWgrad("moe_expert_fc1", m, n1, d.h, d, false), s.local_experts));
  if (d.ep > 1) {
    ops.push_back(MakeCollective("ep_alltoall_dispatch_bwd", Pass::kBackward, CommGroup::kExpert,
                                 CollectiveKind::kAllToAll, a2a));
  }
  ops.push_back(MakeKernel("moe_permute_bwd", OpKind::kElementwise, Pass::kBackward,
                           kAddFlops * Tm * k * h,
                           Tm * k * h * e + Tm * h * e + Tm * k * kIndexBytes));
  ops.push_back(MakeKernel("moe_router_topk_bwd", OpKind::kElementwise, Pass::kBackward,
                           kSoftmaxBwdFlops * Tm * E,
                           Tm * E * (2 * kFp32Bytes + e) + Tm * k * (kFp32Bytes + kIndexBytes)));
  ops.push_back(RouterGemm(LinearDgrad("moe_router", tm, model.moe.experts, d.h, Bf16(d))));
  ops.push_back(RouterGemm(LinearWgrad("moe_router", tm, model.moe.experts, d.h, Bf16(d), false)));
  const double paths = s.shared_ffn > 0 ? 3 : 2;  // router, experts (, shared)
  ops.push_back(MakeKernel("moe_input_grad_add", OpKind::kElementwise, Pass::kBackward,
                           (paths - 1) * Tm * h, (paths + 1) * Tm * h * e));
}

double MoeSavedBytes(const Dims& d, const ModelConfig& model, const FusionRules& f) {
  const MoeShape s = MakeMoeShape(d, model);
  const auto k = static_cast<double>(model.moe.top_k);
  const auto E = static_cast<double>(model.moe.experts);
  const auto h = static_cast<double>(d.h);
  const double e = d.act;
  const double Tm = s.router_tokens;
  const std::int64_t n1 = d.swiglu ? 2 * s.expert_ffn : s.expert_ffn;
  const double g = d.gemm_in;  // Transformer Engine GEMM inputs: kept as fp8 transposes in fp8
  double saved = Tm * h * e;   // router input (norm output)
  saved += Tm * E * kFp32Bytes + Tm * k * kIndexBytes;               // probabilities, routing map
  saved += s.expert_tokens * h * g;                                  // expert fc1 input
  saved += s.expert_tokens * static_cast<double>(n1) * e;            // activation input
  saved += s.expert_tokens * static_cast<double>(s.expert_ffn) * g;  // fc2 input
  saved += Tm * k * h * e;  // expert outputs (for the probability gradient)
  if (s.shared_ffn > 0) {
    const std::int64_t sn1 = d.swiglu ? 2 * s.shared_ffn : s.shared_ffn;
    saved += d.TokenElems(sn1) * e + d.TokenElems(s.shared_ffn) * g;
  }
  if (d.dropout) saved += Tm * h * kMaskBytes;  // MLP residual dropout mask
  if (!f.norm) saved += Tm * h * e;             // normalized x of the post-attn norm
  return saved;
}

}  // namespace foresight::ops::internal
