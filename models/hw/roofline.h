// Roofline kernel cost: launch overhead + max(compute time, memory time).
//
// Every kernel costs (seconds, once per kernel):
//   seconds      = gpu.kernel_launch_seconds + max(compute time, memory time)
//   compute time = flops / (peak(dtype) * efficiency)
//   memory time  = bytes / (hbm_bandwidth * memory_efficiency(bytes))        (0 when bytes = 0)
//
// GEMM efficiency, for `batch` independent products (m x k) * (k x n):
//   flops      = 2 * m * n * k * batch
//   tiles      = batch * ceil(m / tile_m) * ceil(n / tile_n)     (one output tile per SM)
//   waves      = ceil(tiles / sm_count)
//   wave_eff   = tiles / (waves * sm_count)         (the last wave leaves SMs idle)
//   k_eff      = k / (k + k_half)                   (1 when k_half = 0)
//   efficiency = gemm.max_efficiency * wave_eff * k_eff
// Tile and wave quantization as described in NVIDIA's "Matrix Multiplication Background User's
// Guide" (docs.nvidia.com/deeplearning/performance/dl-performance-matrix-multiplication);
// k_eff models each tile's fixed prologue/epilogue cost, worth k_half of the K loop.
//
// Memory efficiency for a kernel moving B bytes:
//   memory_efficiency(B) = memory.max_efficiency * B / (B + bytes_half)  (bytes_half = 0: no term)
// so memory time = (B + bytes_half) / (hbm_bandwidth * max_efficiency): a latency worth
// bytes_half bytes, then streaming at the ceiling (Little's law for a cold kernel).
//
// Fused attention uses efficiency = attention_efficiency (shape-independent). Memory-bound
// kernels price their vector flops at the fp32 peak with no efficiency factor.
//
// Valid for single kernels with the GPU to themselves; overlap slow-down is the simulator's
// job, communication is priced in collective.h. All functions are O(1) and pure.
#pragma once

#include <cstdint>

#include "base/dtype.h"
#include "models/hw/hardware.h"

namespace foresight::hw {

// The best fraction of the dtype's peak a GEMM reaches: gemm.fp8_max_efficiency for fp8 when
// set, else gemm.max_efficiency.
double GemmCeiling(const GpuSpec& gpu, Dtype dtype);

// Fraction of the dtype's peak a GEMM of this shape reaches (equation above). Requires m, n, k,
// batch >= 1.
double GemmEfficiencyFor(const GpuSpec& gpu, std::int64_t m, std::int64_t n, std::int64_t k,
                         std::int64_t batch, Dtype dtype = Dtype::kBf16);

// Fraction of HBM bandwidth a kernel moving `bytes` (>= 0) reaches (equation above).
double MemoryEfficiencyFor(const GpuSpec& gpu, double bytes);

// Seconds for a GEMM (or batched GEMM) moving `bytes` of operands and results. Requires a
// dtype the GPU supports (PeakFlopsPerS(dtype) > 0); callers validate plans before pricing.
double GemmSeconds(const GpuSpec& gpu, Dtype dtype, std::int64_t m, std::int64_t n, std::int64_t k,
                   std::int64_t batch, double bytes);

// Seconds for fused attention (flash): flops at attention_efficiency, bytes at the HBM rate
// (with memory_efficiency). Same dtype precondition as GemmSeconds.
double AttentionSeconds(const GpuSpec& gpu, Dtype dtype, double flops, double bytes);

// Seconds for a memory-bound kernel (elementwise, norm, softmax, optimizer) that also does
// `flops` of vector work (priced at the fp32 peak, non-tensor-core).
double MemoryBoundSeconds(const GpuSpec& gpu, double flops, double bytes);

}  // namespace foresight::hw
