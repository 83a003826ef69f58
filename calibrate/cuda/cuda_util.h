// Internal helpers shared by the CUDA microkernels (calibrate/cuda/*.cu): error conversion to
// foresight::Error, CUDA-event timing with an adaptive batch, and table-row formatting.
// Not part of the public interface (calibrate/gpu_kernels.h is).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "calibrate/cpu_kernels.h"
#include "calibrate/gpu_kernels.h"
#include "calibrate/measurement.h"

namespace foresight::calibrate::cuda {

inline Error CudaError(const char* call, cudaError_t code) {
  return Error{std::string(call) + " failed: " + cudaGetErrorName(code) + " (" +
                   cudaGetErrorString(code) + ")",
               "", 0, 0};
}

// Evaluates a cudaError_t expression; on failure returns an Error from the enclosing function
// (which must return Status or Result<T>).
#define FS_CUDA_TRY(expr)                                                    \
  do {                                                                       \
    const cudaError_t fs_cuda_status = (expr);                               \
    if (fs_cuda_status != cudaSuccess)                                       \
      return ::foresight::calibrate::cuda::CudaError(#expr, fs_cuda_status); \
  } while (0)

// Evaluates a Status expression and returns it from the enclosing function on failure.
#define FS_STATUS_TRY(expr)                        \
  do {                                             \
    const ::foresight::Status fs_status = (expr);  \
    if (!fs_status.ok()) return fs_status.error(); \
  } while (0)

// "no CUDA device found: ..." unless a device is present; selects `device`.
Status SelectDevice(int device);

// Median and min of per-call times.
Timing Summarize(std::vector<double> per_call_s);

// Times `call` (which enqueues one call on `stream`) with CUDA events: one untimed call sizes
// the batch (iters = clamp(ceil(min_repetition_s / t), repeat.iters, 1000), at least
// repeat.iters), then repeat.warmup untimed calls, then repeat.repeats timed batches.
Result<Timing> TimeOnStream(cudaStream_t stream, const GpuRepeat& repeat,
                            const std::function<Status()>& call, double min_repetition_s = 1e-3);

// Cells for the three timing columns.
std::vector<std::string> TimingCells(const Timing& t);

// Fills n elements at `data` of `dtype` ("fp32", "bf16", "fp16", "fp8_e4m3") with values in
// [-1, 1) from a hash of the index and `seed` (not zeros: data-dependent power matters).
Status FillRandom(void* data, std::size_t n, const std::string& dtype, unsigned seed,
                  cudaStream_t stream);

// Enqueues one prepared matmul on a stream of the device it was made on.
using GemmLauncher = std::function<Status(cudaStream_t)>;
// A bf16 cuBLASLt GEMM C[m x n] = A B^T ("NT", first heuristic algorithm, 32 MiB workspace) on the
// current device, operands allocated and filled (on `stream`, synchronised); the launcher owns
// them. Errors when cuBLASLt cannot be loaded or has no algorithm.
Result<GemmLauncher> MakeGemmLauncher(std::int64_t m, std::int64_t n, std::int64_t k,
                                      cudaStream_t stream);

// The cuBLASLt version (cublasLtGetVersion) of the library gemm.cu loads at run time.
Result<std::string> CublasLtVersion();

// Table builders, one per measurement file kind; defined in gemm.cu, membw.cu, transfer.cu.
Result<MeasurementTable> MeasureGemm(int device, bool quick, const GpuRepeat& repeat);
Result<MeasurementTable> MeasureMemBw(bool quick, const GpuRepeat& repeat);
Result<MeasurementTable> MeasureLaunch(const GpuRepeat& repeat);
Result<MeasurementTable> MeasureMemcpy(bool quick, const GpuRepeat& repeat);

}  // namespace foresight::calibrate::cuda
