// cuBLASLt GEMM throughput over an (M, N, K) grid x dtype x layout.
//
// cuBLASLt is loaded with dlopen when a GEMM is measured, not linked: loading it costs about
// 0.4 s, which every `foresight` command would otherwise pay at start-up.
#include <cublasLt.h>
#include <dlfcn.h>

#include <memory>

#include "calibrate/cuda/cuda_util.h"

namespace foresight::calibrate::cuda {
namespace {

Error LtError(const char* call, cublasStatus_t status) {
  return Error{std::string(call) + " failed: cublasStatus " + std::to_string(int(status)), "", 0,
               0};
}

#define FS_LT_TRY(expr)                                                             \
  do {                                                                              \
    const cublasStatus_t fs_lt_status = (expr);                                     \
    if (fs_lt_status != CUBLAS_STATUS_SUCCESS) return LtError(#expr, fs_lt_status); \
  } while (0)

// The cuBLASLt entry points used here, resolved from the shared library.
struct LtApi {
  std::unique_ptr<void, int (*)(void*)> library{nullptr, dlclose};
  decltype(&cublasLtCreate) Create = nullptr;
  decltype(&cublasLtDestroy) Destroy = nullptr;
  decltype(&cublasLtGetVersion) GetVersion = nullptr;
  decltype(&cublasLtMatmulDescCreate) DescCreate = nullptr;
  decltype(&cublasLtMatmulDescDestroy) DescDestroy = nullptr;
  decltype(&cublasLtMatmulDescSetAttribute) DescSetAttribute = nullptr;
  decltype(&cublasLtMatrixLayoutCreate) LayoutCreate = nullptr;
  decltype(&cublasLtMatrixLayoutDestroy) LayoutDestroy = nullptr;
  decltype(&cublasLtMatmulPreferenceCreate) PrefCreate = nullptr;
  decltype(&cublasLtMatmulPreferenceDestroy) PrefDestroy = nullptr;
  decltype(&cublasLtMatmulPreferenceSetAttribute) PrefSetAttribute = nullptr;
  decltype(&cublasLtMatmulAlgoGetHeuristic) AlgoGetHeuristic = nullptr;
  decltype(&cublasLtMatmul) Matmul = nullptr;
};

template <typename F>
Status Resolve(void* library, const char* name, F* out) {
  *out = reinterpret_cast<F>(dlsym(library, name));
  if (*out == nullptr) return Error{std::string("cuBLASLt lacks ") + name, "", 0, 0};
  return Status::Ok();
}

// Opens libcublasLt.so.<major this was compiled against>, else libcublasLt.so.
Result<LtApi> LoadCublasLt() {
  LtApi api;
  const std::string versioned = "libcublasLt.so." + std::to_string(CUBLAS_VER_MAJOR);
  void* library = dlopen(versioned.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) library = dlopen("libcublasLt.so", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    return Error{"cannot load cuBLASLt (" + versioned + "): " + dlerror(), "", 0, 0};
  }
  api.library.reset(library);
  FS_STATUS_TRY(Resolve(library, "cublasLtCreate", &api.Create));
  FS_STATUS_TRY(Resolve(library, "cublasLtDestroy", &api.Destroy));
  FS_STATUS_TRY(Resolve(library, "cublasLtGetVersion", &api.GetVersion));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatmulDescCreate", &api.DescCreate));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatmulDescDestroy", &api.DescDestroy));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatmulDescSetAttribute", &api.DescSetAttribute));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatrixLayoutCreate", &api.LayoutCreate));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatrixLayoutDestroy", &api.LayoutDestroy));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatmulPreferenceCreate", &api.PrefCreate));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatmulPreferenceDestroy", &api.PrefDestroy));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatmulPreferenceSetAttribute", &api.PrefSetAttribute));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatmulAlgoGetHeuristic", &api.AlgoGetHeuristic));
  FS_STATUS_TRY(Resolve(library, "cublasLtMatmul", &api.Matmul));
  return Result<LtApi>(std::move(api));
}

struct DtypeSpec {
  const char* name;
  cudaDataType_t ab;  // A and B storage
  cudaDataType_t cd;  // C and D storage
  cublasComputeType_t compute;
  int bytes_ab;
  int bytes_cd;
  int min_cc;  // minimum compute capability x 10
};

constexpr DtypeSpec kDtypes[] = {
    {"fp32", CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, 4, 4, 0},
    {"tf32", CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, 4, 4, 80},
    {"bf16", CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F, 2, 2, 80},
    {"fp16", CUDA_R_16F, CUDA_R_16F, CUBLAS_COMPUTE_32F, 2, 2, 70},
    {"fp8_e4m3", CUDA_R_8F_E4M3, CUDA_R_16BF, CUBLAS_COMPUTE_32F, 1, 2, 89},
};

struct Shape {
  std::int64_t m, n, k;
};

// Device buffers freed on scope exit.
struct DeviceBuffer {
  void* ptr = nullptr;
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
};

// Owns the cuBLASLt descriptors of one problem.
struct LtProblem {
  const LtApi& lt;
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~LtProblem() {
    if (pref) lt.PrefDestroy(pref);
    if (c) lt.LayoutDestroy(c);
    if (b) lt.LayoutDestroy(b);
    if (a) lt.LayoutDestroy(a);
    if (op) lt.DescDestroy(op);
  }
};

constexpr std::size_t kWorkspaceBytes = std::size_t{32} << 20;

// Creates the descriptors of one problem in `p` and asks for the first heuristic algorithm;
// *found = false when cuBLASLt has none for it.
Status SetUpProblem(const LtApi& api, cublasLtHandle_t lt, const DtypeSpec& dt, const char* layout,
                    const Shape& s, LtProblem& p, cublasLtMatmulHeuristicResult_t* heuristic,
                    bool* found) {
  const cublasOperation_t ta = layout[0] == 'T' ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t tb = layout[1] == 'T' ? CUBLAS_OP_T : CUBLAS_OP_N;
  FS_LT_TRY(api.DescCreate(&p.op, dt.compute, CUDA_R_32F));
  FS_LT_TRY(api.DescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  FS_LT_TRY(api.DescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  // Column-major storage: op(A) is m x k, op(B) is k x n.
  const std::int64_t a_rows = ta == CUBLAS_OP_N ? s.m : s.k;
  const std::int64_t a_cols = ta == CUBLAS_OP_N ? s.k : s.m;
  const std::int64_t b_rows = tb == CUBLAS_OP_N ? s.k : s.n;
  const std::int64_t b_cols = tb == CUBLAS_OP_N ? s.n : s.k;
  FS_LT_TRY(api.LayoutCreate(&p.a, dt.ab, a_rows, a_cols, a_rows));
  FS_LT_TRY(api.LayoutCreate(&p.b, dt.ab, b_rows, b_cols, b_rows));
  FS_LT_TRY(api.LayoutCreate(&p.c, dt.cd, s.m, s.n, s.m));
  FS_LT_TRY(api.PrefCreate(&p.pref));
  const std::size_t ws = kWorkspaceBytes;
  FS_LT_TRY(
      api.PrefSetAttribute(p.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
  int count = 0;
  const cublasStatus_t h =
      api.AlgoGetHeuristic(lt, p.op, p.a, p.b, p.c, p.c, p.pref, 1, heuristic, &count);
  *found = h != CUBLAS_STATUS_NOT_SUPPORTED && count > 0;
  if (*found) FS_LT_TRY(h);
  return Status::Ok();
}

// Device buffers A, B, C of a problem, filled with pseudo-random values.
Status AllocateOperands(const DtypeSpec& dt, const Shape& s, cudaStream_t stream, DeviceBuffer& a,
                        DeviceBuffer& b, DeviceBuffer& c) {
  const auto a_elems = static_cast<std::size_t>(s.m * s.k);
  const auto b_elems = static_cast<std::size_t>(s.k * s.n);
  const auto c_elems = static_cast<std::size_t>(s.m * s.n);
  FS_CUDA_TRY(cudaMalloc(&a.ptr, a_elems * dt.bytes_ab));
  FS_CUDA_TRY(cudaMalloc(&b.ptr, b_elems * dt.bytes_ab));
  FS_CUDA_TRY(cudaMalloc(&c.ptr, c_elems * dt.bytes_cd));
  const std::string ab_name = dt.name;
  const std::string cd_name = dt.cd == CUDA_R_16BF ? "bf16" : ab_name;
  FS_STATUS_TRY(FillRandom(a.ptr, a_elems, ab_name, 1, stream));
  FS_STATUS_TRY(FillRandom(b.ptr, b_elems, ab_name, 2, stream));
  FS_STATUS_TRY(FillRandom(c.ptr, c_elems, cd_name, 3, stream));
  return Status::Ok();
}

// Times one GEMM; returns a zero Timing (repeats = 0) when cuBLASLt has no algorithm for it.
Result<Timing> TimeGemm(const LtApi& api, cublasLtHandle_t lt, const DtypeSpec& dt,
                        const char* layout, const Shape& s, void* workspace, cudaStream_t stream,
                        const GpuRepeat& repeat) {
  LtProblem p{api};
  cublasLtMatmulHeuristicResult_t heuristic{};
  bool found = false;
  FS_STATUS_TRY(SetUpProblem(api, lt, dt, layout, s, p, &heuristic, &found));
  if (!found) return Timing{};
  DeviceBuffer a, b, c;
  FS_STATUS_TRY(AllocateOperands(dt, s, stream, a, b, c));
  const float alpha = 1.0f;
  const float beta = 0.0f;
  return TimeOnStream(stream, repeat, [&]() -> Status {
    FS_LT_TRY(api.Matmul(lt, p.op, &alpha, a.ptr, p.a, b.ptr, p.b, &beta, c.ptr, p.c, c.ptr, p.c,
                         &heuristic.algo, workspace, kWorkspaceBytes, stream));
    return Status::Ok();
  });
}

// Everything one GemmLauncher needs; the problem is destroyed before the handle and library.
struct LauncherState {
  LtApi api;
  cublasLtHandle_t lt = nullptr;
  std::unique_ptr<LtProblem> problem;
  cublasLtMatmulHeuristicResult_t heuristic{};
  DeviceBuffer a, b, c, workspace;
  ~LauncherState() {
    problem.reset();
    if (lt) api.Destroy(lt);
  }
};

std::vector<Shape> Grid(bool quick) {
  if (quick) return {{1024, 1024, 1024}, {4096, 4096, 4096}, {8192, 1024, 4096}};
  std::vector<Shape> shapes;
  // Squares (peak and small-size falloff) ...
  for (std::int64_t d : {256, 512, 1024, 2048, 4096, 8192}) shapes.push_back({d, d, d});
  // ... and transformer-like shapes: tokens x hidden x {hidden, 3 hidden, 4 hidden}, where
  // wave quantization over the SM count shows.
  for (std::int64_t tokens : {2048, 8192}) {
    for (std::int64_t hidden : {2048, 4096, 8192}) {
      for (std::int64_t factor : {1, 3, 4}) {
        shapes.push_back({tokens, hidden * factor, hidden});
        if (factor == 4) shapes.push_back({tokens, hidden, hidden * factor});
      }
    }
  }
  return shapes;
}

}  // namespace

Result<std::string> CublasLtVersion() {
  auto api = LoadCublasLt();
  if (!api.ok()) return api.error();
  return std::to_string(api->GetVersion());
}

Result<GemmLauncher> MakeGemmLauncher(std::int64_t m, std::int64_t n, std::int64_t k,
                                      cudaStream_t stream) {
  auto state = std::make_shared<LauncherState>();
  auto api = LoadCublasLt();
  if (!api.ok()) return api.error();
  state->api = std::move(api).value();
  FS_LT_TRY(state->api.Create(&state->lt));
  state->problem.reset(new LtProblem{state->api});
  const DtypeSpec& dt = kDtypes[2];  // bf16
  const Shape s{m, n, k};
  bool found = false;
  FS_STATUS_TRY(
      SetUpProblem(state->api, state->lt, dt, "NT", s, *state->problem, &state->heuristic, &found));
  if (!found) {
    return Error{"cuBLASLt has no bf16 algorithm for " + std::to_string(m) + "x" +
                     std::to_string(n) + "x" + std::to_string(k),
                 "", 0, 0};
  }
  FS_STATUS_TRY(AllocateOperands(dt, s, stream, state->a, state->b, state->c));
  FS_CUDA_TRY(cudaMalloc(&state->workspace.ptr, kWorkspaceBytes));
  FS_CUDA_TRY(cudaStreamSynchronize(stream));
  return GemmLauncher([state](cudaStream_t on) -> Status {
    const float alpha = 1.0f;
    const float beta = 0.0f;
    const LtProblem& p = *state->problem;
    FS_LT_TRY(state->api.Matmul(state->lt, p.op, &alpha, state->a.ptr, p.a, state->b.ptr, p.b,
                                &beta, state->c.ptr, p.c, state->c.ptr, p.c, &state->heuristic.algo,
                                state->workspace.ptr, kWorkspaceBytes, on));
    return Status::Ok();
  });
}

Result<MeasurementTable> MeasureGemm(int device, bool quick, const GpuRepeat& repeat) {
  cudaDeviceProp prop{};
  FS_CUDA_TRY(cudaGetDeviceProperties(&prop, device));
  const int cc = prop.major * 10 + prop.minor;
  auto api = LoadCublasLt();
  if (!api.ok()) return api.error();
  cublasLtHandle_t lt = nullptr;
  FS_LT_TRY(api->Create(&lt));
  std::unique_ptr<cublasLtContext, cublasStatus_t (*)(cublasLtHandle_t)> lt_owner(lt, api->Destroy);
  cudaStream_t stream = nullptr;
  FS_CUDA_TRY(cudaStreamCreate(&stream));
  std::unique_ptr<CUstream_st, cudaError_t (*)(cudaStream_t)> stream_owner(stream,
                                                                           cudaStreamDestroy);
  DeviceBuffer workspace;
  FS_CUDA_TRY(cudaMalloc(&workspace.ptr, kWorkspaceBytes));

  MeasurementTable table = MakeTable(MeasurementKind::kGemm);
  table.metadata.emplace_back("algorithm", "cublasLtMatmulAlgoGetHeuristic first result");
  table.metadata.emplace_back("workspace_bytes", std::to_string(kWorkspaceBytes));
  for (const DtypeSpec& dt : kDtypes) {
    if (cc < dt.min_cc) continue;
    for (const char* layout : {"NN", "NT", "TN"}) {
      // cuBLASLt FP8 matmuls require A transposed and B not ("TN" in column-major).
      if (dt.bytes_ab == 1 && std::string(layout) != "TN") continue;
      for (const Shape& s : Grid(quick)) {
        auto t = TimeGemm(*api, lt, dt, layout, s, workspace.ptr, stream, repeat);
        if (!t.ok()) {
          return Error{std::string("gemm ") + dt.name + " " + layout + " " + std::to_string(s.m) +
                           "x" + std::to_string(s.n) + "x" + std::to_string(s.k) + ": " +
                           t.error().message,
                       "", 0, 0};
        }
        if (t->repeats == 0) continue;  // no algorithm for this combination on this GPU
        std::vector<std::string> row = {dt.name, layout, std::to_string(s.m), std::to_string(s.n),
                                        std::to_string(s.k)};
        for (std::string& cell : TimingCells(*t)) row.push_back(std::move(cell));
        const double flop = 2.0 * double(s.m) * double(s.n) * double(s.k);
        row.push_back(FormatNumber(flop / t->median_s));
        table.AddRow(std::move(row));
      }
    }
  }
  return table;
}

}  // namespace foresight::calibrate::cuda
