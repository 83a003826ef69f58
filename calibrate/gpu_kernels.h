// GPU and NCCL microkernels (CUDA C++ in calibrate/cuda/). Declared here for every build but
// DEFINED only in foresight::calibrate_cuda, which exists when CMake found the CUDA toolkit; call
// them only under `#ifdef FORESIGHT_HAVE_CUDA`. This header includes no CUDA header.
//
// What each measures (columns and units: calibrate/measurement.h):
//   gemm       cuBLASLt matmul D = op(A) op(B), dtype fp32 | tf32 (fp32 storage, TF32 tensor
//              cores) | bf16 | fp16 (fp32 accumulate) | fp8_e4m3 (sm >= 89; TN only, as cuBLASLt
//              requires), layouts NN, NT, TN, over an (M, N, K) grid; first heuristic algorithm,
//              32 MiB workspace.
//   membw      HBM read (sum reduction), write (fill), copy, triad over fp32 arrays of several
//              sizes; and the fused layernorm-like (row mean/variance + scale), softmax-like (row
//              max, exp-sum, normalise) and Adam-like (fp32 AdamW) kernels.
//   launch     empty kernel: "sync" = launch + cudaStreamSynchronize round trip; "async" =
//              back-to-back launches on one stream, total / launches.
//   memcpy     cudaMemcpyAsync h2d and d2h from pinned (cudaMallocHost) and pageable (new[])
//              host memory, and d2d, over sizes.
//   collective NCCL all_reduce, all_gather, reduce_scatter, alltoall (grouped send/recv), and
//              sendrecv (ring neighbour exchange) over sizes, for every GPU count 2, 4, ... up to
//              the GPUs visible (single process, ncclCommInitAll), or across all MPI ranks
//              (one GPU per rank, ncclUniqueId broadcast with MPI_Bcast) under mpirun.
//   overlap    (NcclSuiteOptions::overlap) a cuBLASLt bf16 GEMM and an NCCL all_reduce run
//              together on every GPU: each one's time per call while the other runs
//              throughout, against its time alone (gpu.interference).
// Timing: CUDA events around `iters` back-to-back calls after `warmup` calls; repeated
// `repeats` times; time per call = event time / iters; median and min over repeats. NCCL:
// every rank's time is reduced with max (the collective ends when its last rank does).
//
// Every function returns an Error "no CUDA device found: <CUDA's reason>" when there is no
// device, and errors naming the failing CUDA/cuBLAS/NCCL call otherwise; nothing exits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "calibrate/measurement.h"

namespace foresight::calibrate {

struct GpuRepeat {
  int warmup = 3;
  int iters = 10;   // calls per timed repetition
  int repeats = 5;  // timed repetitions
};

struct GpuSuiteOptions {
  int device = 0;
  bool quick = false;  // small grid: seconds instead of minutes
  GpuRepeat repeat;
};

struct NcclSuiteOptions {
  bool quick = false;
  int max_gpus = 0;               // 0 = all visible (single process)
  std::int64_t min_bytes = 1024;  // sizes: powers of 4 from min to max
  std::int64_t max_bytes = std::int64_t{1} << 30;
  // Also the `overlap` table (measurement.h): a bf16 GEMM (4096^3, 8192^3) and an all_reduce
  // (64 and 256 MiB) at the same time on every GPU of the largest group, each timed as the
  // victim of the other, against their times alone.
  bool overlap = false;
  GpuRepeat repeat;
};

// Device, driver, runtime, cuBLASLt and NCCL versions, host and date (file metadata).
Result<Metadata> GpuIdentity(int device);

// gemm, membw, launch and memcpy tables for one device.
Result<MeasurementFile> RunGpuSuite(const GpuSuiteOptions& options);

// collective tables. Under mpirun (detected from OMPI_COMM_WORLD_SIZE, PMI_SIZE or
// PMIX_RANK, when built with MPI) one rank per GPU; rank 0's result holds the table, other
// ranks return a file with no tables.
Result<MeasurementFile> RunNcclSuite(const NcclSuiteOptions& options);

// True when the NCCL microkernels were built with MPI bootstrapping.
bool NcclHasMpi();

}  // namespace foresight::calibrate
