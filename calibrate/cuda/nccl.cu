// NCCL collectives over sizes and GPU counts: single process (ncclCommInitAll) or one rank per
// GPU under mpirun (ncclUniqueId broadcast with MPI), in the manner of nccl-tests.
#ifdef FORESIGHT_HAVE_NCCL
#include <nccl.h>
#endif

#include <cstdlib>
#include <memory>

#include "calibrate/cuda/cuda_util.h"
#ifdef FORESIGHT_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // C API only: no deprecated C++ bindings
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace foresight::calibrate {
#ifdef FORESIGHT_HAVE_NCCL
namespace {

using cuda::Summarize;
using cuda::TimingCells;

Error NcclError(const char* call, ncclResult_t r) {
  return Error{std::string(call) + " failed: " + ncclGetErrorString(r), "", 0, 0};
}
#define FS_NCCL_TRY(expr)                                                       \
  do {                                                                          \
    const ncclResult_t fs_nccl_status = (expr);                                 \
    if (fs_nccl_status != ncclSuccess) return NcclError(#expr, fs_nccl_status); \
  } while (0)

constexpr const char* kCollectives[] = {"all_reduce", "all_gather", "reduce_scatter", "alltoall",
                                        "sendrecv"};

// nccl-tests PERFORMANCE.md bus-bandwidth factors.
double BusFactor(const std::string& coll, int n) {
  if (coll == "all_reduce") return 2.0 * (n - 1) / n;
  if (coll == "sendrecv") return 1.0;
  return static_cast<double>(n - 1) / n;
}

// One GPU's rank in the communicator, with its buffers (max_bytes each) and events.
struct Rank {
  int device = 0;
  int rank = 0;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  float* send = nullptr;
  float* recv = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  ~Rank() {
    if (device < 0) return;
    cudaSetDevice(device);
    if (comm) ncclCommDestroy(comm);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    if (send) cudaFree(send);
    if (recv) cudaFree(recv);
    if (stream) cudaStreamDestroy(stream);
  }
};

// All ranks this process drives, the world size, and how to take a max over all processes.
struct Group {
  std::vector<std::unique_ptr<Rank>> local;
  int nranks = 0;
  std::function<double(double)> max_over_processes = [](double v) { return v; };
};

Status Allocate(Rank& r, std::int64_t max_bytes) {
  FS_CUDA_TRY(cudaSetDevice(r.device));
  FS_CUDA_TRY(cudaStreamCreateWithFlags(&r.stream, cudaStreamNonBlocking));
  FS_CUDA_TRY(cudaMalloc(&r.send, max_bytes));
  FS_CUDA_TRY(cudaMalloc(&r.recv, max_bytes));
  FS_CUDA_TRY(cudaEventCreate(&r.start));
  FS_CUDA_TRY(cudaEventCreate(&r.stop));
  FS_STATUS_TRY(cuda::FillRandom(r.send, max_bytes / 4, "fp32", r.rank, r.stream));
  return Status::Ok();
}

// Enqueues one collective of nccl-tests size `bytes` (a multiple of 4 * n) for rank r.
Status Enqueue(const std::string& coll, std::int64_t bytes, int n, const Rank& r) {
  const auto count = static_cast<std::size_t>(bytes / 4);
  const std::size_t chunk = count / n;
  if (coll == "all_reduce") {
    FS_NCCL_TRY(ncclAllReduce(r.send, r.recv, count, ncclFloat, ncclSum, r.comm, r.stream));
  } else if (coll == "all_gather") {
    FS_NCCL_TRY(ncclAllGather(r.send, r.recv, chunk, ncclFloat, r.comm, r.stream));
  } else if (coll == "reduce_scatter") {
    FS_NCCL_TRY(ncclReduceScatter(r.send, r.recv, chunk, ncclFloat, ncclSum, r.comm, r.stream));
  } else if (coll == "alltoall") {  // grouped send/recv, as nccl-tests (works on any NCCL 2.7+)
    FS_NCCL_TRY(ncclGroupStart());
    for (int p = 0; p < n; ++p) {
      FS_NCCL_TRY(ncclSend(r.send + p * chunk, chunk, ncclFloat, p, r.comm, r.stream));
      FS_NCCL_TRY(ncclRecv(r.recv + p * chunk, chunk, ncclFloat, p, r.comm, r.stream));
    }
    FS_NCCL_TRY(ncclGroupEnd());
  } else {  // sendrecv: ring neighbour exchange
    FS_NCCL_TRY(ncclGroupStart());
    FS_NCCL_TRY(ncclSend(r.send, count, ncclFloat, (r.rank + 1) % n, r.comm, r.stream));
    FS_NCCL_TRY(ncclRecv(r.recv, count, ncclFloat, (r.rank + n - 1) % n, r.comm, r.stream));
    FS_NCCL_TRY(ncclGroupEnd());
  }
  return Status::Ok();
}

// `iters` calls on every local rank in one NCCL group per call.
Status Launch(const Group& g, const std::string& coll, std::int64_t bytes, int iters) {
  for (int i = 0; i < iters; ++i) {
    FS_NCCL_TRY(ncclGroupStart());
    for (const auto& r : g.local) FS_STATUS_TRY(Enqueue(coll, bytes, g.nranks, *r));
    FS_NCCL_TRY(ncclGroupEnd());
  }
  return Status::Ok();
}

Result<Timing> TimeCollective(const Group& g, const std::string& coll, std::int64_t bytes,
                              const GpuRepeat& repeat) {
  FS_STATUS_TRY(Launch(g, coll, bytes, repeat.warmup));
  for (const auto& r : g.local) FS_CUDA_TRY(cudaStreamSynchronize(r->stream));
  std::vector<double> per_call_s;
  for (int rep = 0; rep < repeat.repeats; ++rep) {
    for (const auto& r : g.local) {
      FS_CUDA_TRY(cudaSetDevice(r->device));
      FS_CUDA_TRY(cudaEventRecord(r->start, r->stream));
    }
    FS_STATUS_TRY(Launch(g, coll, bytes, repeat.iters));
    double slowest_s = 0;
    for (const auto& r : g.local) {
      FS_CUDA_TRY(cudaSetDevice(r->device));
      FS_CUDA_TRY(cudaEventRecord(r->stop, r->stream));
      FS_CUDA_TRY(cudaEventSynchronize(r->stop));
      float ms = 0;
      FS_CUDA_TRY(cudaEventElapsedTime(&ms, r->start, r->stop));
      slowest_s = std::max(slowest_s, 1e-3 * ms / repeat.iters);
    }
    per_call_s.push_back(g.max_over_processes(slowest_s));
  }
  return Summarize(std::move(per_call_s));
}

std::vector<std::int64_t> Sizes(const NcclSuiteOptions& o) {
  std::vector<std::int64_t> sizes;
  const std::int64_t max = o.quick ? std::min<std::int64_t>(o.max_bytes, 64 << 20) : o.max_bytes;
  for (std::int64_t b = o.min_bytes; b <= max; b *= o.quick ? 16 : 4) sizes.push_back(b);
  return sizes;
}

// Appends one row per (collective, size) for the group to `table`.
Status Sweep(const Group& g, int nodes, const NcclSuiteOptions& o, MeasurementTable* table) {
  for (const char* coll : kCollectives) {
    for (std::int64_t size : Sizes(o)) {
      const std::int64_t bytes = size / (4 * g.nranks) * (4 * g.nranks);  // whole elements/rank
      if (bytes == 0) continue;
      auto t = TimeCollective(g, coll, bytes, o.repeat);
      if (!t.ok()) {
        return Error{std::string(coll) + " " + std::to_string(bytes) + " bytes on " +
                         std::to_string(g.nranks) + " GPUs: " + t.error().message,
                     "", 0, 0};
      }
      const double algbw = double(bytes) / t->median_s;
      std::vector<std::string> row = {coll, "fp32", std::to_string(g.nranks), std::to_string(nodes),
                                      std::to_string(bytes)};
      for (std::string& cell : TimingCells(*t)) row.push_back(std::move(cell));
      row.push_back(FormatNumber(algbw));
      row.push_back(FormatNumber(algbw * BusFactor(coll, g.nranks)));
      table->AddRow(std::move(row));
    }
  }
  return Status::Ok();
}

// The compute side of one local rank for the overlap measurement: its own stream, events and a
// prepared GEMM.
struct ComputeSide {
  int device = -1;
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  cuda::GemmLauncher gemm;
  ~ComputeSide() {
    if (device < 0) return;
    cudaSetDevice(device);
    gemm = nullptr;  // frees the operands
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    if (stream) cudaStreamDestroy(stream);
  }
};

// Enqueues `iters` GEMMs on every rank's compute stream.
Status LaunchGemms(const std::vector<std::unique_ptr<ComputeSide>>& sides, int iters) {
  for (const auto& c : sides) {
    FS_CUDA_TRY(cudaSetDevice(c->device));
    for (int i = 0; i < iters; ++i) FS_STATUS_TRY(c->gemm(c->stream));
  }
  return Status::Ok();
}

// Per-call seconds of the slowest rank over one batch timed with (start, stop) on each rank's
// `stream`, the batch enqueued by `launch` between the two records.
struct Timer {
  int device;
  cudaStream_t stream;
  cudaEvent_t start, stop;
};
Result<double> TimeBatch(const std::vector<Timer>& timers, int iters,
                         const std::function<Status()>& launch, const Group& g) {
  for (const Timer& t : timers) {
    FS_CUDA_TRY(cudaSetDevice(t.device));
    FS_CUDA_TRY(cudaEventRecord(t.start, t.stream));
  }
  FS_STATUS_TRY(launch());
  for (const Timer& t : timers) {
    FS_CUDA_TRY(cudaSetDevice(t.device));
    FS_CUDA_TRY(cudaEventRecord(t.stop, t.stream));
  }
  double slowest_s = 0;
  for (const Timer& t : timers) {
    FS_CUDA_TRY(cudaSetDevice(t.device));
    FS_CUDA_TRY(cudaEventSynchronize(t.stop));
    float ms = 0;
    FS_CUDA_TRY(cudaEventElapsedTime(&ms, t.start, t.stop));
    slowest_s = std::max(slowest_s, 1e-3 * ms / iters);
  }
  return g.max_over_processes(slowest_s);
}

Status SyncAll(const Group& g, const std::vector<std::unique_ptr<ComputeSide>>& sides) {
  for (const auto& r : g.local) {
    FS_CUDA_TRY(cudaSetDevice(r->device));
    FS_CUDA_TRY(cudaStreamSynchronize(r->stream));
  }
  for (const auto& c : sides) {
    FS_CUDA_TRY(cudaSetDevice(c->device));
    FS_CUDA_TRY(cudaStreamSynchronize(c->stream));
  }
  return Status::Ok();
}

// Compute-communication interference (measurement.h, kind `overlap`): on every local rank a
// bf16 GEMM on its own stream and an all_reduce on the rank's NCCL stream. Alone, each is timed
// by itself. Overlapped, for each victim (the GEMM, then the all_reduce) the other kind is issued
// first, in a batch 1.5 x as long as the victim's batch alone plus one call, so that it runs
// throughout; the victim's batch is timed with events on its own streams (slowest rank).
Status MeasureOverlap(const Group& g, const NcclSuiteOptions& o, MeasurementTable* table) {
  struct Gemm {
    std::int64_t m, n, k;
  };
  std::vector<Gemm> shapes = {{4096, 4096, 4096}, {8192, 8192, 8192}};
  std::vector<std::int64_t> sizes;
  for (std::int64_t b : {std::int64_t{64} << 20, std::int64_t{256} << 20}) {
    const std::int64_t bytes = std::min(b, o.max_bytes) / (4 * g.nranks) * (4 * g.nranks);
    if (bytes > 0 && (sizes.empty() || sizes.back() != bytes)) sizes.push_back(bytes);
  }
  if (o.quick) {
    shapes.resize(1);
    sizes.resize(std::min<std::size_t>(sizes.size(), 1));
  }
  const int repeats = std::max(1, o.repeat.repeats);
  auto batch_of = [&](double per_call_s) {
    return std::max(o.repeat.iters, static_cast<int>(std::ceil(0.02 / per_call_s)));
  };
  auto median_of = [&](const std::function<Result<double>()>& once) -> Result<double> {
    std::vector<double> v;
    for (int rep = 0; rep < repeats; ++rep) {
      auto t = once();
      if (!t.ok()) return t.error();
      v.push_back(*t);
    }
    return Summarize(std::move(v)).median_s;
  };
  for (const Gemm& shape : shapes) {
    std::vector<std::unique_ptr<ComputeSide>> sides;
    std::vector<Timer> compute_timers, comm_timers;
    for (const auto& r : g.local) {
      auto c = std::make_unique<ComputeSide>();
      c->device = r->device;
      FS_CUDA_TRY(cudaSetDevice(r->device));
      FS_CUDA_TRY(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
      FS_CUDA_TRY(cudaEventCreate(&c->start));
      FS_CUDA_TRY(cudaEventCreate(&c->stop));
      auto launcher = cuda::MakeGemmLauncher(shape.m, shape.n, shape.k, c->stream);
      if (!launcher.ok()) return launcher.error();
      c->gemm = std::move(launcher).value();
      compute_timers.push_back({c->device, c->stream, c->start, c->stop});
      comm_timers.push_back({r->device, r->stream, r->start, r->stop});
      sides.push_back(std::move(c));
    }
    FS_STATUS_TRY(LaunchGemms(sides, o.repeat.warmup));
    FS_STATUS_TRY(SyncAll(g, sides));
    const int probe = o.repeat.iters;
    auto gemm_alone = median_of([&] {
      return TimeBatch(
          compute_timers, probe, [&] { return LaunchGemms(sides, probe); }, g);
    });
    if (!gemm_alone.ok()) return gemm_alone.error();
    const int gemm_iters = batch_of(*gemm_alone);
    for (std::int64_t bytes : sizes) {
      auto comm_alone = TimeCollective(g, "all_reduce", bytes, o.repeat);
      if (!comm_alone.ok()) return comm_alone.error();
      const double comm_s = comm_alone->median_s;
      const int comm_iters = batch_of(comm_s);
      // Victim GEMM: all_reduces first, covering 1.5 x the GEMM batch.
      const int cover_comm =
          static_cast<int>(std::ceil(1.5 * gemm_iters * *gemm_alone / comm_s)) + 1;
      auto gemm_overlapped = median_of([&]() -> Result<double> {
        FS_STATUS_TRY(Launch(g, "all_reduce", bytes, cover_comm));
        auto t = TimeBatch(
            compute_timers, gemm_iters, [&] { return LaunchGemms(sides, gemm_iters); }, g);
        FS_STATUS_TRY(SyncAll(g, sides));
        return t;
      });
      if (!gemm_overlapped.ok()) return gemm_overlapped.error();
      // Victim all_reduce: GEMMs first, covering 1.5 x the all_reduce batch.
      const int cover_gemm =
          static_cast<int>(std::ceil(1.5 * comm_iters * comm_s / *gemm_alone)) + 1;
      auto comm_overlapped = median_of([&]() -> Result<double> {
        FS_STATUS_TRY(LaunchGemms(sides, cover_gemm));
        auto t = TimeBatch(
            comm_timers, comm_iters, [&] { return Launch(g, "all_reduce", bytes, comm_iters); }, g);
        FS_STATUS_TRY(SyncAll(g, sides));
        return t;
      });
      if (!comm_overlapped.ok()) return comm_overlapped.error();
      auto add_row = [&](const char* victim, double overlapped_s, double alone_s, int iters) {
        std::vector<std::string> row = {victim,
                                        "bf16",
                                        std::to_string(shape.m),
                                        std::to_string(shape.n),
                                        std::to_string(shape.k),
                                        "all_reduce",
                                        std::to_string(bytes),
                                        std::to_string(g.nranks),
                                        std::to_string(repeats * iters),
                                        FormatNumber(overlapped_s),
                                        FormatNumber(overlapped_s),
                                        FormatNumber(alone_s),
                                        FormatNumber(overlapped_s / alone_s - 1)};
        table->AddRow(std::move(row));
      };
      add_row("gemm", *gemm_overlapped, *gemm_alone, gemm_iters);
      add_row("collective", *comm_overlapped, comm_s, comm_iters);
    }
  }
  return Status::Ok();
}

Result<MeasurementFile> SingleProcess(const NcclSuiteOptions& o) {
  FS_STATUS_TRY(cuda::SelectDevice(0));
  int ndev = 0;
  FS_CUDA_TRY(cudaGetDeviceCount(&ndev));
  if (o.max_gpus > 0) ndev = std::min(ndev, o.max_gpus);
  if (ndev < 2) {
    return Error{"NCCL calibration needs at least 2 GPUs; " + std::to_string(ndev) +
                     " visible (for several nodes run under mpirun, one rank per GPU)",
                 "", 0, 0};
  }
  auto identity = GpuIdentity(0);
  if (!identity.ok()) return identity.error();
  MeasurementFile file;
  file.metadata = *identity;
  file.metadata.emplace_back("bootstrap", "single process, ncclCommInitAll");
  MeasurementTable table = MakeTable(MeasurementKind::kCollective);
  MeasurementTable overlap = MakeTable(MeasurementKind::kOverlap);
  std::vector<int> counts;
  for (int c = 2; c <= ndev; c *= 2) counts.push_back(c);
  if (counts.back() != ndev) counts.push_back(ndev);
  if (o.quick && counts.size() > 2) counts = {counts.front(), counts.back()};
  for (int count : counts) {
    Group g;
    g.nranks = count;
    std::vector<int> devices(count);
    std::vector<ncclComm_t> comms(count);
    for (int i = 0; i < count; ++i) devices[i] = i;
    FS_NCCL_TRY(ncclCommInitAll(comms.data(), count, devices.data()));
    for (int i = 0; i < count; ++i) {  // owners first, so every comm is destroyed on error
      auto r = std::make_unique<Rank>();
      r->device = i;
      r->rank = i;
      r->comm = comms[i];
      g.local.push_back(std::move(r));
    }
    for (const auto& r : g.local) FS_STATUS_TRY(Allocate(*r, o.max_bytes));
    FS_STATUS_TRY(Sweep(g, 1, o, &table));
    if (o.overlap && count == counts.back()) FS_STATUS_TRY(MeasureOverlap(g, o, &overlap));
  }
  file.tables.push_back(std::move(table));
  if (o.overlap) file.tables.push_back(std::move(overlap));
  return file;
}

#ifdef FORESIGHT_HAVE_MPI
bool UnderMpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
}

Result<MeasurementFile> MultiProcess(const NcclSuiteOptions& o) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) MPI_Init(nullptr, nullptr);
  int rank = 0, size = 0, local_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm local_comm;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local_comm);
  MPI_Comm_rank(local_comm, &local_rank);
  MPI_Comm_free(&local_comm);
  int is_leader = local_rank == 0 ? 1 : 0, nodes = 0;
  MPI_Allreduce(&is_leader, &nodes, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  auto run = [&]() -> Result<MeasurementFile> {
    int ndev = 0;
    FS_STATUS_TRY(cuda::SelectDevice(0));
    FS_CUDA_TRY(cudaGetDeviceCount(&ndev));
    const int device = local_rank % ndev;
    auto identity = GpuIdentity(device);
    if (!identity.ok()) return identity.error();
    ncclUniqueId id;
    if (rank == 0) FS_NCCL_TRY(ncclGetUniqueId(&id));
    MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD);
    Group g;
    g.nranks = size;
    g.max_over_processes = [](double v) {
      double out = 0;
      MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      return out;
    };
    auto r = std::make_unique<Rank>();
    r->device = device;
    r->rank = rank;
    FS_CUDA_TRY(cudaSetDevice(device));
    FS_NCCL_TRY(ncclCommInitRank(&r->comm, size, id, rank));
    g.local.push_back(std::move(r));
    FS_STATUS_TRY(Allocate(*g.local.back(), o.max_bytes));
    MeasurementTable table = MakeTable(MeasurementKind::kCollective);
    FS_STATUS_TRY(Sweep(g, nodes, o, &table));
    MeasurementTable overlap = MakeTable(MeasurementKind::kOverlap);
    if (o.overlap) FS_STATUS_TRY(MeasureOverlap(g, o, &overlap));
    MeasurementFile file;
    if (rank != 0) return file;
    file.metadata = *identity;
    file.metadata.emplace_back("bootstrap", "MPI, " + std::to_string(size) + " ranks on " +
                                                std::to_string(nodes) + " nodes");
    file.tables.push_back(std::move(table));
    if (o.overlap) file.tables.push_back(std::move(overlap));
    return file;
  };
  Result<MeasurementFile> result = run();
  if (!initialized) MPI_Finalize();
  return result;
}
#endif

}  // namespace

bool NcclHasMpi() {
#ifdef FORESIGHT_HAVE_MPI
  return true;
#else
  return false;
#endif
}

Result<MeasurementFile> RunNcclSuite(const NcclSuiteOptions& options) {
#ifdef FORESIGHT_HAVE_MPI
  if (UnderMpi()) return MultiProcess(options);
#endif
  return SingleProcess(options);
}

#else  // !FORESIGHT_HAVE_NCCL

bool NcclHasMpi() { return false; }

Result<MeasurementFile> RunNcclSuite(const NcclSuiteOptions&) {
  return Error{
      "foresight was built without NCCL: `calibrate nccl` needs a build where CMake "
      "finds nccl.h and libnccl (next to the CUDA toolkit)",
      "", 0, 0};
}

#endif  // FORESIGHT_HAVE_NCCL

}  // namespace foresight::calibrate
