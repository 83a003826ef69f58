// HBM bandwidth (STREAM read, write, copy, triad) and fused elementwise/reduction kernels
// (layernorm-, softmax-, Adam-like) over array sizes.
#include <memory>

#include "calibrate/cuda/cuda_util.h"

namespace foresight::calibrate::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kRowCols = 4096;  // layernorm/softmax row length (a hidden size)

__device__ std::size_t GlobalIndex() {
  return blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
}
__device__ std::size_t GridStride() { return static_cast<std::size_t>(gridDim.x) * blockDim.x; }

// n4 = number of float4 elements.
__global__ void ReadKernel(const float4* a, std::size_t n4, float* partial) {
  float sum = 0;
  for (std::size_t i = GlobalIndex(); i < n4; i += GridStride()) {
    const float4 v = a[i];
    sum += v.x + v.y + v.z + v.w;
  }
  if (sum == 12345.678f) partial[GlobalIndex()] = sum;  // never true for our data; keeps loads
}
__global__ void WriteKernel(float4* a, std::size_t n4) {
  for (std::size_t i = GlobalIndex(); i < n4; i += GridStride()) a[i] = make_float4(1, 2, 3, 4);
}
__global__ void CopyKernel(const float4* a, float4* b, std::size_t n4) {
  for (std::size_t i = GlobalIndex(); i < n4; i += GridStride()) b[i] = a[i];
}
__global__ void TriadKernel(float4* a, const float4* b, const float4* c, std::size_t n4) {
  const float s = 3.0f;
  for (std::size_t i = GlobalIndex(); i < n4; i += GridStride()) {
    const float4 x = b[i], y = c[i];
    a[i] = make_float4(x.x + s * y.x, x.y + s * y.y, x.z + s * y.z, x.w + s * y.w);
  }
}

__device__ float BlockSum(float v, float* shared) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) shared[threadIdx.x / 32] = v;
  __syncthreads();
  float total = 0;
  for (int w = 0; w < kThreads / 32; ++w) total += shared[w];
  __syncthreads();
  return total;
}
__device__ float BlockMax(float v, float* shared) {
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  if (threadIdx.x % 32 == 0) shared[threadIdx.x / 32] = v;
  __syncthreads();
  float total = shared[0];
  for (int w = 1; w < kThreads / 32; ++w) total = fmaxf(total, shared[w]);
  __syncthreads();
  return total;
}

// One block per row of kRowCols: y = (x - mean) / sqrt(var + eps) * gamma + beta.
__global__ void LayerNormKernel(const float* x, float* y, const float* gamma, const float* beta) {
  __shared__ float shared[kThreads / 32];
  const float* row = x + blockIdx.x * static_cast<std::size_t>(kRowCols);
  float sum = 0, sum_sq = 0;
  for (int c = threadIdx.x; c < kRowCols; c += kThreads) {
    sum += row[c];
    sum_sq += row[c] * row[c];
  }
  const float mean = BlockSum(sum, shared) / kRowCols;
  const float var = BlockSum(sum_sq, shared) / kRowCols - mean * mean;
  const float rstd = rsqrtf(var + 1e-5f);
  float* out = y + blockIdx.x * static_cast<std::size_t>(kRowCols);
  for (int c = threadIdx.x; c < kRowCols; c += kThreads) {
    out[c] = (row[c] - mean) * rstd * gamma[c] + beta[c];
  }
}

// One block per row: y = exp(x - max) / sum exp(x - max).
__global__ void SoftmaxKernel(const float* x, float* y) {
  __shared__ float shared[kThreads / 32];
  const float* row = x + blockIdx.x * static_cast<std::size_t>(kRowCols);
  float m = -INFINITY;
  for (int c = threadIdx.x; c < kRowCols; c += kThreads) m = fmaxf(m, row[c]);
  m = BlockMax(m, shared);
  float sum = 0;
  for (int c = threadIdx.x; c < kRowCols; c += kThreads) sum += __expf(row[c] - m);
  const float inv = 1.0f / BlockSum(sum, shared);
  float* out = y + blockIdx.x * static_cast<std::size_t>(kRowCols);
  for (int c = threadIdx.x; c < kRowCols; c += kThreads) out[c] = __expf(row[c] - m) * inv;
}

// fp32 AdamW step at t = 10 (bias corrections hoisted), as a fused optimizer kernel.
__global__ void AdamKernel(float* p, const float* g, float* m, float* v, std::size_t n) {
  const float lr = 1e-4f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f;
  const float c1 = 1.0f / (1.0f - 0.34867844f);  // 1 - 0.9^10
  const float c2 = 1.0f / (1.0f - 0.99004488f);  // 1 - 0.999^10
  for (std::size_t i = GlobalIndex(); i < n; i += GridStride()) {
    const float grad = g[i];
    const float mi = b1 * m[i] + (1 - b1) * grad;
    const float vi = b2 * v[i] + (1 - b2) * grad * grad;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * (mi * c1 / (sqrtf(vi * c2) + eps) + wd * p[i]);
  }
}

struct DeviceBuffer {
  void* ptr = nullptr;
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  float* f() const { return static_cast<float*>(ptr); }
  float4* f4() const { return static_cast<float4*>(ptr); }
};

}  // namespace

Result<MeasurementTable> MeasureMemBw(bool quick, const GpuRepeat& repeat) {
  int device = 0, sms = 0;
  FS_CUDA_TRY(cudaGetDevice(&device));
  FS_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const int grid = sms * 8;  // enough resident blocks to saturate HBM
  cudaStream_t stream = nullptr;
  FS_CUDA_TRY(cudaStreamCreate(&stream));
  std::unique_ptr<CUstream_st, cudaError_t (*)(cudaStream_t)> owner(stream, cudaStreamDestroy);

  std::vector<std::int64_t> sizes;  // bytes of one fp32 array
  if (quick) {
    sizes = {std::int64_t{1} << 20, std::int64_t{256} << 20};
  } else {
    for (int shift = 16; shift <= 30; shift += 2) sizes.push_back(std::int64_t{1} << shift);
  }
  MeasurementTable table = MakeTable(MeasurementKind::kMemBw);
  table.metadata.emplace_back("row_cols", std::to_string(kRowCols));
  for (std::int64_t bytes : sizes) {
    const auto n = static_cast<std::size_t>(bytes / 4);
    const std::size_t n4 = n / 4;
    DeviceBuffer a, b, c, d, partial, gamma, beta;
    for (DeviceBuffer* buf : {&a, &b, &c, &d}) {
      FS_CUDA_TRY(cudaMalloc(&buf->ptr, bytes));
      FS_STATUS_TRY(FillRandom(buf->ptr, n, "fp32", 7, stream));
    }
    FS_CUDA_TRY(cudaMalloc(&partial.ptr, std::size_t{4} * grid * kThreads));
    FS_CUDA_TRY(cudaMalloc(&gamma.ptr, 4 * kRowCols));
    FS_CUDA_TRY(cudaMalloc(&beta.ptr, 4 * kRowCols));
    FS_STATUS_TRY(FillRandom(gamma.ptr, kRowCols, "fp32", 8, stream));
    FS_STATUS_TRY(FillRandom(beta.ptr, kRowCols, "fp32", 9, stream));
    const unsigned rows = static_cast<unsigned>(n / kRowCols);
    auto launched = []() -> Status {
      FS_CUDA_TRY(cudaGetLastError());
      return Status::Ok();
    };
    struct Op {
      const char* name;
      std::int64_t traffic_bytes;
      std::int64_t working_set_bytes;
      std::function<Status()> call;
    };
    const std::vector<Op> ops = {
        {"read", bytes, bytes,
         [&] {
           ReadKernel<<<grid, kThreads, 0, stream>>>(a.f4(), n4, partial.f());
           return launched();
         }},
        {"write", bytes, bytes,
         [&] {
           WriteKernel<<<grid, kThreads, 0, stream>>>(d.f4(), n4);
           return launched();
         }},
        {"copy", 2 * bytes, 2 * bytes,
         [&] {
           CopyKernel<<<grid, kThreads, 0, stream>>>(a.f4(), d.f4(), n4);
           return launched();
         }},
        {"triad", 3 * bytes, 3 * bytes,
         [&] {
           TriadKernel<<<grid, kThreads, 0, stream>>>(d.f4(), b.f4(), c.f4(), n4);
           return launched();
         }},
        {"layernorm", 2 * bytes, 2 * bytes,
         [&] {
           LayerNormKernel<<<rows, kThreads, 0, stream>>>(a.f(), d.f(), gamma.f(), beta.f());
           return launched();
         }},
        {"softmax", 2 * bytes, 2 * bytes,
         [&] {
           SoftmaxKernel<<<rows, kThreads, 0, stream>>>(a.f(), d.f());
           return launched();
         }},
        // p = d, g = a (read only), m = b, v = c: 7 arrays of n floats = 28 n bytes.
        {"adam", 7 * bytes, 4 * bytes,
         [&] {
           AdamKernel<<<grid, kThreads, 0, stream>>>(d.f(), a.f(), b.f(), c.f(), n);
           return launched();
         }},
    };
    for (const Op& op : ops) {
      const bool row_kernel =
          std::string(op.name) == "layernorm" || std::string(op.name) == "softmax";
      if (row_kernel && rows == 0) continue;  // array smaller than one row
      auto t = TimeOnStream(stream, repeat, op.call);
      if (!t.ok())
        return Error{std::string("membw ") + op.name + ": " + t.error().message, "", 0, 0};
      std::vector<std::string> row = {op.name, std::to_string(op.working_set_bytes),
                                      std::to_string(op.traffic_bytes)};
      for (std::string& cell : TimingCells(*t)) row.push_back(std::move(cell));
      row.push_back(FormatNumber(double(op.traffic_bytes) / t->median_s));
      table.AddRow(std::move(row));
    }
  }
  return table;
}

}  // namespace foresight::calibrate::cuda
