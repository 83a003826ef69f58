// Shared CUDA helpers, device identity and the `calibrate gpu` suite.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#ifdef FORESIGHT_HAVE_NCCL
#include <nccl.h>
#endif
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>

#include "calibrate/cuda/cuda_util.h"

namespace foresight::calibrate {
namespace cuda {
namespace {

// Hash of (index, seed) mapped to [-1, 1).
__device__ float HashValue(std::size_t i, unsigned seed) {
  unsigned x = static_cast<unsigned>(i) * 2654435761u ^ (seed * 0x9E3779B9u);
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  return static_cast<float>(x & 0xFFFFFFu) / 8388608.0f - 1.0f;
}

template <typename T>
__global__ void FillKernel(T* data, std::size_t n, unsigned seed) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    data[i] = T(HashValue(i, seed));
  }
}

template <typename T>
Status Fill(void* data, std::size_t n, unsigned seed, cudaStream_t stream) {
  FillKernel<T><<<1024, 256, 0, stream>>>(static_cast<T*>(data), n, seed);
  FS_CUDA_TRY(cudaGetLastError());
  return Status::Ok();
}

}  // namespace

Status SelectDevice(int device) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    std::string reason = cudaGetErrorString(status);
    if (status == cudaErrorInsufficientDriver) {
      reason += " (is an NVIDIA driver installed? without a GPU the driver library is absent)";
    }
    return Error{"no CUDA device found: " + reason, "", 0, 0};
  }
  if (count == 0) return Error{"no CUDA device found: cudaGetDeviceCount returned 0", "", 0, 0};
  if (device < 0 || device >= count) {
    return Error{"CUDA device " + std::to_string(device) + " does not exist; " +
                     std::to_string(count) + " device(s) visible (0.." + std::to_string(count - 1) +
                     ")",
                 "", 0, 0};
  }
  FS_CUDA_TRY(cudaSetDevice(device));
  return Status::Ok();
}

Timing Summarize(std::vector<double> per_call_s) {
  std::sort(per_call_s.begin(), per_call_s.end());
  const std::size_t n = per_call_s.size();
  const double median =
      n % 2 ? per_call_s[n / 2] : 0.5 * (per_call_s[n / 2 - 1] + per_call_s[n / 2]);
  return Timing{static_cast<int>(n), median, per_call_s.front()};
}

Result<Timing> TimeOnStream(cudaStream_t stream, const GpuRepeat& repeat,
                            const std::function<Status()>& call, double min_repetition_s) {
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
  FS_CUDA_TRY(cudaEventCreate(&start));
  FS_CUDA_TRY(cudaEventCreate(&stop));
  auto body = [&]() -> Result<Timing> {
    float ms = 0;
    FS_CUDA_TRY(cudaEventRecord(start, stream));
    FS_STATUS_TRY(call());
    FS_CUDA_TRY(cudaEventRecord(stop, stream));
    FS_CUDA_TRY(cudaEventSynchronize(stop));
    FS_CUDA_TRY(cudaEventElapsedTime(&ms, start, stop));
    const double first_s = std::max(1e-3 * ms, 1e-7);
    const int iters = static_cast<int>(std::clamp(std::ceil(min_repetition_s / first_s),
                                                  static_cast<double>(repeat.iters), 1000.0));
    for (int i = 0; i < repeat.warmup; ++i) FS_STATUS_TRY(call());
    std::vector<double> per_call_s;
    for (int r = 0; r < repeat.repeats; ++r) {
      FS_CUDA_TRY(cudaEventRecord(start, stream));
      for (int i = 0; i < iters; ++i) FS_STATUS_TRY(call());
      FS_CUDA_TRY(cudaEventRecord(stop, stream));
      FS_CUDA_TRY(cudaEventSynchronize(stop));
      FS_CUDA_TRY(cudaEventElapsedTime(&ms, start, stop));
      per_call_s.push_back(1e-3 * ms / iters);
    }
    return Summarize(std::move(per_call_s));
  };
  Result<Timing> timing = body();
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return timing;
}

std::vector<std::string> TimingCells(const Timing& t) {
  return {std::to_string(t.repeats), FormatNumber(t.median_s), FormatNumber(t.min_s)};
}

Status FillRandom(void* data, std::size_t n, const std::string& dtype, unsigned seed,
                  cudaStream_t stream) {
  if (dtype == "fp32" || dtype == "tf32") return Fill<float>(data, n, seed, stream);
  if (dtype == "bf16") return Fill<__nv_bfloat16>(data, n, seed, stream);
  if (dtype == "fp16") return Fill<__half>(data, n, seed, stream);
  if (dtype == "fp8_e4m3") return Fill<__nv_fp8_e4m3>(data, n, seed, stream);
  return Error{"FillRandom: unknown dtype " + dtype, "", 0, 0};
}

}  // namespace cuda

Result<Metadata> GpuIdentity(int device) {
  FS_STATUS_TRY(cuda::SelectDevice(device));
  cudaDeviceProp prop{};
  FS_CUDA_TRY(cudaGetDeviceProperties(&prop, device));
  int driver = 0;
  int runtime = 0;
  FS_CUDA_TRY(cudaDriverGetVersion(&driver));
  FS_CUDA_TRY(cudaRuntimeGetVersion(&runtime));
  int nccl = 0;  // NCCL_VERSION_CODE style: 10000 * major + 100 * minor + patch
#ifdef FORESIGHT_HAVE_NCCL
  ncclGetVersion(&nccl);
#endif
  auto version = [](int v) {  // CUDA encodes 1000 * major + 10 * minor
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
  };
  Metadata meta;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  meta.emplace_back("host", host[0] ? host : "unknown");
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &utc);
  meta.emplace_back("date", date);
  meta.emplace_back("device", prop.name);
  // The kernel module's version line ("NVRM version: ... Kernel Module  550.54.15 ..."), else
  // the CUDA driver API version.
  std::string driver_text = "CUDA driver API " + version(driver);
  std::ifstream nvrm("/proc/driver/nvidia/version");
  std::string line;
  if (std::getline(nvrm, line) && line.find("Module") != std::string::npos) {
    std::string rest = line.substr(line.find("Module") + 6);
    rest.erase(0, rest.find_first_not_of(' '));
    driver_text = rest.substr(0, rest.find(' '));
  }
  meta.emplace_back("driver", driver_text);
  meta.emplace_back("cuda", version(runtime));
  meta.emplace_back("cuda_driver_api", version(driver));
  auto cublaslt = cuda::CublasLtVersion();
  meta.emplace_back("cublaslt", cublaslt.ok() ? *cublaslt : "not loadable");
  meta.emplace_back("nccl", nccl == 0 ? std::string("none")
                                      : std::to_string(nccl / 10000) + "." +
                                            std::to_string((nccl / 100) % 100) + "." +
                                            std::to_string(nccl % 100));
  meta.emplace_back("compute_capability",
                    std::to_string(prop.major) + "." + std::to_string(prop.minor));
  meta.emplace_back("sm_count", std::to_string(prop.multiProcessorCount));
  meta.emplace_back("memory_bytes", std::to_string(prop.totalGlobalMem));
  return meta;
}

Result<MeasurementFile> RunGpuSuite(const GpuSuiteOptions& options) {
  auto identity = GpuIdentity(options.device);
  if (!identity.ok()) return identity.error();
  MeasurementFile file;
  file.metadata = *identity;
  file.metadata.emplace_back(
      "timing", "CUDA events; warmup " + std::to_string(options.repeat.warmup) + ", repeats " +
                    std::to_string(options.repeat.repeats) + ", >= 1 ms per timed batch");
  auto gemm = cuda::MeasureGemm(options.device, options.quick, options.repeat);
  if (!gemm.ok()) return gemm.error();
  auto membw = cuda::MeasureMemBw(options.quick, options.repeat);
  if (!membw.ok()) return membw.error();
  auto launch = cuda::MeasureLaunch(options.repeat);
  if (!launch.ok()) return launch.error();
  auto memcpy = cuda::MeasureMemcpy(options.quick, options.repeat);
  if (!memcpy.ok()) return memcpy.error();
  file.tables = {*gemm, *membw, *launch, *memcpy};
  return file;
}

}  // namespace foresight::calibrate
