// CPU microkernels: the host model that CPU-offload plans use (GEMM through Eigen, STREAM-style
// memory bandwidth, fp32 Adam step throughput, host memcpy). Each returns a MeasurementTable of
// the matching kind (see calibrate/measurement.h for columns and units).
//
// Timing: std::chrono::steady_clock. For every size: one untimed call sizes the batch so that
// a timed repetition lasts at least `min_repetition_s` (inner = ceil(min / first-call time));
// `warmup` untimed repetitions follow, then `repeats` timed ones; time per call = repetition
// time / inner. Tables report the median and the minimum per-call time over repetitions.
// Multi-threaded kernels split the array into `threads` contiguous slices; each repetition
// starts the threads, each runs its slice `inner` times, and joins (thread start-up, tens of
// microseconds, is included and amortised by min_repetition_s).
//
// Complexity: time is dominated by the measurement itself: a few seconds for Quick(), about a
// minute for Full() on a 2-core machine. Memory: at most 3 x max array bytes (membw triad).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "calibrate/measurement.h"

namespace foresight::calibrate {

struct RepeatPolicy {
  int warmup = 1;
  int repeats = 5;
  double min_repetition_s = 0.002;
};

struct GemmShape {
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;
};

struct CpuSuiteOptions {
  RepeatPolicy policy;
  int threads = 1;  // for membw, Adam (GEMM uses Eigen's own thread count)
  std::vector<GemmShape> gemm_shapes;
  std::vector<std::int64_t> membw_array_bytes;  // bytes of ONE fp32 array
  std::vector<std::int64_t> adam_params;
  std::vector<std::int64_t> memcpy_bytes;

  // Finishes in a few seconds (CI): small GEMMs, two bandwidth sizes (in cache, in DRAM).
  static CpuSuiteOptions Quick(int threads);
  // Broader sweep (about a minute on 2 cores).
  static CpuSuiteOptions Full(int threads);
};

struct Timing {
  int repeats = 0;
  double median_s = 0;  // per call
  double min_s = 0;     // per call
};

// Times `call` per the policy (see the file comment). `call` must do the same work each time.
Timing TimeCalls(const std::function<void()>& call, const RepeatPolicy& policy);

// Times `body(begin, end)` over [0, n) split into `threads` slices, in parallel.
Timing TimeParallel(int threads, std::int64_t n,
                    const std::function<void(std::int64_t begin, std::int64_t end)>& body,
                    const RepeatPolicy& policy);

// fp32 C = A * B with Eigen (column-major, no transposes); flop = 2 m n k.
MeasurementTable MeasureCpuGemm(const std::vector<GemmShape>& shapes, const RepeatPolicy& policy);
// STREAM read (sum), write (fill), copy (b = a), triad (a = b + s c) over fp32 arrays.
MeasurementTable MeasureCpuMemBw(const std::vector<std::int64_t>& array_bytes, int threads,
                                 const RepeatPolicy& policy);
// One fp32 Adam(W) step over `params` parameters (p, g, m, v arrays): 28 bytes per parameter.
MeasurementTable MeasureCpuAdam(const std::vector<std::int64_t>& params, int threads,
                                const RepeatPolicy& policy);
// std::memcpy between two distinct buffers, one thread.
MeasurementTable MeasureHostMemcpy(const std::vector<std::int64_t>& bytes,
                                   const RepeatPolicy& policy);

// Host identity for the file header: host, date (UTC ISO 8601), device (CPU model name),
// host_cores, host_memory_bytes, compiler, eigen version.
Metadata HostIdentity();

// The HOST SECTION keys (measurement.h) derived from the cpu_* and host_memcpy tables of
// `file`; keys whose table is absent are omitted.
Metadata DeriveHostSection(const MeasurementFile& file);

// Runs all four CPU kernels and returns a file with identity, host section and tables.
MeasurementFile RunCpuSuite(const CpuSuiteOptions& options);

}  // namespace foresight::calibrate
