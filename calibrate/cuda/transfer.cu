// Empty-kernel launch latency and host<->device copies (pinned, pageable) and device copies.
#include <chrono>
#include <cstring>
#include <memory>

#include "calibrate/cuda/cuda_util.h"

namespace foresight::calibrate::cuda {
namespace {

__global__ void EmptyKernel() {}

using StreamOwner = std::unique_ptr<CUstream_st, cudaError_t (*)(cudaStream_t)>;

std::vector<std::string> Row(std::vector<std::string> head, const Timing& t,
                             std::vector<std::string> tail) {
  for (std::string& cell : TimingCells(t)) head.push_back(std::move(cell));
  for (std::string& cell : tail) head.push_back(std::move(cell));
  return head;
}

// Host-clock timing of a synchronous call: warm-up, then `repeats` batches of `iters` calls.
Result<Timing> TimeOnHost(const GpuRepeat& repeat, const std::function<Status()>& call) {
  for (int i = 0; i < repeat.warmup; ++i) FS_STATUS_TRY(call());
  std::vector<double> per_call_s;
  for (int r = 0; r < repeat.repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repeat.iters; ++i) FS_STATUS_TRY(call());
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    per_call_s.push_back(elapsed.count() / repeat.iters);
  }
  return Summarize(std::move(per_call_s));
}

}  // namespace

Result<MeasurementTable> MeasureLaunch(const GpuRepeat& repeat) {
  cudaStream_t stream = nullptr;
  FS_CUDA_TRY(cudaStreamCreate(&stream));
  StreamOwner owner(stream, cudaStreamDestroy);
  constexpr int kLaunches = 1000;
  MeasurementTable table = MakeTable(MeasurementKind::kLaunch);
  table.metadata.emplace_back("kernel", "empty __global__ function, <<<1, 1>>>");

  // async: kLaunches back-to-back launches between two events.
  auto async = TimeOnStream(
      stream, GpuRepeat{repeat.warmup, 1, repeat.repeats},
      [&]() -> Status {
        for (int i = 0; i < kLaunches; ++i) EmptyKernel<<<1, 1, 0, stream>>>();
        FS_CUDA_TRY(cudaGetLastError());
        return Status::Ok();
      },
      0.0);
  if (!async.ok()) return async.error();
  Timing per_launch = *async;
  per_launch.median_s /= kLaunches;
  per_launch.min_s /= kLaunches;
  table.AddRow(Row({"async", std::to_string(kLaunches)}, per_launch, {}));

  // sync: launch + cudaStreamSynchronize, host clock (events cannot see the host wait).
  for (int i = 0; i < kLaunches; ++i) EmptyKernel<<<1, 1, 0, stream>>>();  // warm-up
  FS_CUDA_TRY(cudaStreamSynchronize(stream));
  std::vector<double> per_call_s;
  for (int r = 0; r < repeat.repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kLaunches; ++i) {
      EmptyKernel<<<1, 1, 0, stream>>>();
      FS_CUDA_TRY(cudaStreamSynchronize(stream));
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    per_call_s.push_back(elapsed.count() / kLaunches);
  }
  FS_CUDA_TRY(cudaGetLastError());
  table.AddRow(Row({"sync", std::to_string(kLaunches)}, Summarize(per_call_s), {}));
  return table;
}

Result<MeasurementTable> MeasureMemcpy(bool quick, const GpuRepeat& repeat) {
  cudaStream_t stream = nullptr;
  FS_CUDA_TRY(cudaStreamCreate(&stream));
  StreamOwner owner(stream, cudaStreamDestroy);
  std::vector<std::int64_t> sizes;
  if (quick) {
    sizes = {std::int64_t{1} << 20, std::int64_t{64} << 20};
  } else {
    for (int shift = 12; shift <= 30; shift += 2) sizes.push_back(std::int64_t{1} << shift);
  }
  const std::size_t max_bytes = static_cast<std::size_t>(sizes.back());
  void* pinned = nullptr;
  void* device = nullptr;
  void* device2 = nullptr;
  FS_CUDA_TRY(cudaMallocHost(&pinned, max_bytes));
  std::unique_ptr<void, cudaError_t (*)(void*)> pinned_owner(pinned, cudaFreeHost);
  FS_CUDA_TRY(cudaMalloc(&device, max_bytes));
  std::unique_ptr<void, cudaError_t (*)(void*)> device_owner(device, cudaFree);
  FS_CUDA_TRY(cudaMalloc(&device2, max_bytes));
  std::unique_ptr<void, cudaError_t (*)(void*)> device2_owner(device2, cudaFree);
  std::vector<char> pageable(max_bytes, 1);  // touched: pages are resident
  std::memset(pinned, 1, max_bytes);

  MeasurementTable table = MakeTable(MeasurementKind::kMemcpy);
  struct Case {
    const char* direction;
    const char* memory;
    void* dst;
    const void* src;
    cudaMemcpyKind kind;
  };
  const std::vector<Case> cases = {
      {"h2d", "pinned", device, pinned, cudaMemcpyHostToDevice},
      {"d2h", "pinned", pinned, device, cudaMemcpyDeviceToHost},
      {"h2d", "pageable", device, pageable.data(), cudaMemcpyHostToDevice},
      {"d2h", "pageable", pageable.data(), device, cudaMemcpyDeviceToHost},
      {"d2d", "device", device2, device, cudaMemcpyDeviceToDevice},
  };
  for (const Case& c : cases) {
    for (std::int64_t bytes : sizes) {
      const auto size = static_cast<std::size_t>(bytes);
      // Pageable copies are staged through a driver buffer by the host thread, which events on
      // the stream do not see: time them with the host clock around synchronous cudaMemcpy.
      auto t = std::string(c.memory) == "pageable"
                   ? TimeOnHost(repeat,
                                [&]() -> Status {
                                  FS_CUDA_TRY(cudaMemcpy(c.dst, c.src, size, c.kind));
                                  return Status::Ok();
                                })
                   : TimeOnStream(stream, repeat, [&]() -> Status {
                       FS_CUDA_TRY(cudaMemcpyAsync(c.dst, c.src, size, c.kind, stream));
                       return Status::Ok();
                     });
      if (!t.ok()) {
        return Error{
            std::string("memcpy ") + c.direction + " " + c.memory + ": " + t.error().message, "", 0,
            0};
      }
      table.AddRow(Row({c.direction, c.memory, std::to_string(bytes)}, *t,
                       {FormatNumber(double(bytes) / t->median_s)}));
    }
  }
  return table;
}

}  // namespace foresight::calibrate::cuda
