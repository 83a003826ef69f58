#include "cli/calibrate_command.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "calibrate/cpu_kernels.h"
#include "calibrate/measurement.h"
#ifdef FORESIGHT_HAVE_CUDA
#include "calibrate/gpu_kernels.h"
#endif

namespace foresight::cli {
namespace {

using calibrate::MeasurementFile;

struct CalibrateArgs {
  std::string out;
  bool quick = false;
  int threads = 0;  // cpu: 0 = all hardware threads
  int device = 0;   // gpu
  int gpus = 0;     // nccl: 0 = all visible
  std::int64_t max_bytes = std::int64_t{1} << 30;
  bool overlap = false;  // nccl: also the GEMM + all_reduce interference table
};

int Fail(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return 1;
}

int Write(const MeasurementFile& file, const std::string& out) {
  std::size_t rows = 0;
  for (const auto& table : file.tables) rows += table.rows.size();
  const Status status = calibrate::WriteMeasurementsFile(file, out);
  if (!status.ok()) return Fail(status.error().ToString());
  std::cout << "wrote " << rows << " measurements in " << file.tables.size() << " tables to " << out
            << "\n";
  for (const auto& [key, value] : file.metadata) {
    if (key.rfind("host_", 0) == 0) std::cout << "  " << key << ": " << value << "\n";
  }
  return 0;
}

int RunCpu(const CalibrateArgs& args) {
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = args.threads > 0 ? args.threads : hardware;
  const auto options = args.quick ? calibrate::CpuSuiteOptions::Quick(threads)
                                  : calibrate::CpuSuiteOptions::Full(threads);
  return Write(calibrate::RunCpuSuite(options), args.out);
}

#ifdef FORESIGHT_HAVE_CUDA
int RunGpu(const CalibrateArgs& args) {
  calibrate::GpuSuiteOptions options;
  options.device = args.device;
  options.quick = args.quick;
  auto file = calibrate::RunGpuSuite(options);
  if (!file.ok()) return Fail(file.error().ToString());
  return Write(*file, args.out);
}

int RunNccl(const CalibrateArgs& args) {
  calibrate::NcclSuiteOptions options;
  options.quick = args.quick;
  options.max_gpus = args.gpus;
  options.max_bytes = args.max_bytes;
  options.overlap = args.overlap;
  auto file = calibrate::RunNcclSuite(options);
  if (!file.ok()) return Fail(file.error().ToString());
  if (file->tables.empty()) return 0;  // an MPI rank other than 0: rank 0 writes the file
  return Write(*file, args.out);
}
#else
int NoCuda(const char* what) {
  return Fail(std::string("foresight was built without CUDA: `calibrate ") + what +
              "` needs a build where CMake finds the CUDA toolkit (nvcc, cuBLASLt, NCCL)");
}
int RunGpu(const CalibrateArgs&) { return NoCuda("gpu"); }
int RunNccl(const CalibrateArgs&) { return NoCuda("nccl"); }
#endif

}  // namespace

CLI::App* AddCalibrateCommand(CLI::App& app, int* exit_code) {
  CLI::App* calibrate =
      app.add_subcommand("calibrate", "measure this machine, or fit a hardware profile");
  calibrate->require_subcommand(1);
  auto args = std::make_shared<CalibrateArgs>();

  CLI::App* cpu = calibrate->add_subcommand("cpu",
                                            "CPU microkernels: Eigen GEMM, memory "
                                            "bandwidth, Adam step, memcpy");
  cpu->add_option("--out", args->out, "measurement file to write")->required();
  cpu->add_flag("--quick", args->quick, "small sizes, a few seconds (CI)");
  cpu->add_option("--threads", args->threads,
                  "threads for bandwidth and Adam kernels (default: all hardware threads)")
      ->check(CLI::Range(1, 1024));
  cpu->callback([args, exit_code] { *exit_code = RunCpu(*args); });

  CLI::App* gpu = calibrate->add_subcommand("gpu",
                                            "GPU microkernels: cuBLASLt GEMM, HBM "
                                            "bandwidth, fused kernels, launch, copies");
  gpu->add_option("--out", args->out, "measurement file to write")->required();
  gpu->add_flag("--quick", args->quick, "small grid, seconds instead of minutes");
  gpu->add_option("--device", args->device, "CUDA device index")->check(CLI::Range(0, 1023));
  gpu->callback([args, exit_code] { *exit_code = RunGpu(*args); });

  CLI::App* nccl = calibrate->add_subcommand(
      "nccl", "NCCL collectives over sizes and GPU counts (under mpirun: across nodes)");
  nccl->add_option("--out", args->out, "measurement file to write (rank 0)")->required();
  nccl->add_flag("--quick", args->quick, "few sizes, 2 and all GPUs");
  nccl->add_option("--gpus", args->gpus, "largest GPU count (single process; default: all)")
      ->check(CLI::Range(2, 1024));
  nccl->add_option("--max-bytes", args->max_bytes, "largest message size in bytes")
      ->check(CLI::Range(std::int64_t{1024}, std::int64_t{1} << 36));
  nccl->add_flag("--overlap", args->overlap,
                 "also measure a GEMM and an all_reduce running together (gpu.interference)");
  nccl->callback([args, exit_code] { *exit_code = RunNccl(*args); });
  return calibrate;
}

}  // namespace foresight::cli
