// Roofline kernel cost: launch overhead + max(compute time, memory time).
//
//   compute time = flops / (peak(dtype) * efficiency(shape))
//   memory time  = bytes / (hbm_bandwidth * memory_efficiency(bytes))
//
// Efficiencies come from the profile (see hardware.h); calibration replaces their parameters.
// Valid for single kernels on one GPU; communication is priced in collective.h.
#pragma once

#include <cstdint>

#include "base/dtype.h"
#include "models/hw/hardware.h"

namespace foresight::hw {

// Fraction of peak a GEMM of this shape reaches (see GemmEfficiency).
double GemmEfficiencyFor(const GpuSpec& gpu, std::int64_t m, std::int64_t n, std::int64_t k,
                         std::int64_t batch);

// Fraction of HBM bandwidth a memory-bound kernel moving `bytes` reaches.
double MemoryEfficiencyFor(const GpuSpec& gpu, double bytes);

// Seconds for a GEMM (or batched GEMM) moving `bytes` of operands and results.
double GemmSeconds(const GpuSpec& gpu, Dtype dtype, std::int64_t m, std::int64_t n,
                   std::int64_t k, std::int64_t batch, double bytes);

// Seconds for fused attention (flash): flops at attention_efficiency, bytes at HBM rate.
double AttentionSeconds(const GpuSpec& gpu, Dtype dtype, double flops, double bytes);

// Seconds for a memory-bound kernel (elementwise, norm, softmax, optimizer) that also does
// `flops` of vector work (priced at the fp32 peak, non-tensor-core).
double MemoryBoundSeconds(const GpuSpec& gpu, double flops, double bytes);

}  // namespace foresight::hw
