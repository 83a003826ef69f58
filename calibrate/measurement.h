// Measurement files: what the microkernels (`foresight calibrate cpu|gpu|nccl`) write and what
// the fitters (`foresight calibrate fit`) read.
//
// FORMAT (text, UTF-8, '\n' or "\r\n" line ends). A file holds one or more TABLES:
//
//   # foresight-measurement: 1              <- optional first line (format version)
//   # host: node01                          <- file-level metadata, inherited by every table
//   # date: 2026-11-22T02:20:00Z
//   # device: NVIDIA H100 80GB HBM3
//   # driver: 550.54.15
//   # cuda: 12.4          (runtime version)   # nccl: 2.21.5
//   # kind: gemm                            <- starts a table; required
//   # repeats_policy: median of 20          <- any more `# key: value` lines: table metadata
//   dtype,layout,m,n,k,repeats,time_median_s,time_min_s,flop_per_s      <- header row
//   bf16,NT,4096,4096,4096,20,0.000171,0.000169,8.03e14                 <- data rows
//   (blank line)
//   # kind: membw                           <- the next table
//   ...
//
// Rules: a `# key: value` line has key [a-z0-9_-]+ and a value (may be empty; leading/trailing
// spaces trimmed). A line starting with "##" is a free comment. Blank lines are ignored. Metadata
// lines before the first `kind` belong to the file; after a `kind` they belong to that table
// until its header row. The header row must contain every column the kind requires (any order;
// extra columns are allowed and kept). Each data row has exactly as many cells as the header.
// Cells are plain CSV (no quoting: no cell contains ',' or '"'). Numeric columns must hold a
// finite decimal number (1e9 style allowed). A table may have zero rows. Duplicate keys in one
// block and duplicate column names are errors. Every error carries file:line:column.
//
// KINDS AND COLUMNS. Every kind has these three columns:
//   repeats        timed repetitions after warm-up (integer >= 1)
//   time_median_s  median wall/device time of one repetition, seconds
//   time_min_s     fastest repetition, seconds
// and the rate column is derived from time_median_s. Size columns are integers.
//
//   gemm        (GPU, cuBLASLt)  dtype: fp32|tf32|bf16|fp16|fp8_e4m3; layout: NN|NT|TN (cuBLAS
//               column-major op(A) op(B), "T" = transposed); m, n, k: C[m,n] += A[m,k] B[k,n];
//               flop_per_s = 2*m*n*k / time_median_s.
//   membw       (GPU) op: read|write|copy|triad (STREAM), or fused kernels layernorm|softmax|adam;
//               working_set_bytes: total bytes of the buffers touched; bytes: DRAM traffic
//               counted STREAM-style (read = n*4, write = n*4, copy = 2*n*4, triad = 3*n*4
//               for n fp32 elements; fused kernels count the minimal traffic: every input
//               read once, every output written once: layernorm/softmax 2*n*4, adam 28*n);
//               bandwidth_bytes_per_s = bytes / time_median_s.
//               Fitters for HBM bandwidth should use op in {read, write, copy, triad}.
//   launch      (GPU) mode: sync (launch + cudaStreamSynchronize round trip) | async (back-to-
//               back launches, time per launch); launches: launches per repetition.
//               time_*_s are PER LAUNCH.
//   memcpy      (GPU) direction: h2d|d2h|d2d; memory: pinned|pageable|device; bytes: bytes
//               copied; bandwidth_bytes_per_s = bytes / time_median_s.
//   collective  (NCCL) collective: all_reduce|all_gather|reduce_scatter|alltoall|sendrecv;
//               dtype (e.g. fp32, bf16); ranks: total GPUs; nodes: distinct hosts; bytes: the
//               nccl-tests "size" (all_reduce: one rank's buffer; all_gather: the gathered
//               output; reduce_scatter: one rank's input; alltoall: one rank's buffer;
//               sendrecv: bytes sent by one rank); algbw_bytes_per_s = bytes / time_median_s;
//               busbw_bytes_per_s = algbw * factor, factor = 2(n-1)/n for all_reduce,
//               (n-1)/n for all_gather, reduce_scatter and alltoall, 1 for sendrecv
//               (the nccl-tests PERFORMANCE.md definitions, n = ranks).
//   cpu_gemm    (host, Eigen) dtype: fp32; m, n, k; threads: Eigen threads;
//               flop_per_s = 2*m*n*k / time_median_s.
//   cpu_membw   (host) op: read|write|copy|triad; working_set_bytes; bytes (STREAM-style as for
//               membw); threads; bandwidth_bytes_per_s = bytes / time_median_s.
//   cpu_adam    (host) params: fp32 parameters updated per step; threads; bytes: 28*params
//               (reads param, grad, m, v; writes param, m, v: 7 fp32 arrays);
//               params_per_s = params / time_median_s.
//   host_memcpy (host) bytes: bytes copied by one std::memcpy; threads: 1;
//               bandwidth_bytes_per_s = bytes / time_median_s (bytes counted once).
//   overlap     (GPU + NCCL) a cuBLASLt GEMM (dtype, m, n, k, as in gemm) and an NCCL collective
//               (collective, bytes as in collective, over `ranks` GPUs) run at the same time on
//               every GPU, on two streams. victim: gemm | collective, the one timed while the
//               other runs throughout (the other is issued long enough to cover it);
//               time_median_s / time_min_s: the victim's time per call under overlap;
//               alone_s: its median time per call with nothing else on the GPU;
//               slowdown = time_median_s / alone_s - 1 (gpu.interference, hardware.h).
//
// HOST SECTION. `foresight calibrate cpu` also writes file-level metadata a fitter can use
// directly (all derived from the tables in the same file; "best" = highest median rate):
//   host_cores                         std::thread::hardware_concurrency()
//   host_memory_bytes                  physical memory (sysconf), 0 if unknown
//   host_gemm_flop_per_s               best cpu_gemm flop_per_s
//   host_memory_bandwidth_bytes_per_s  cpu_membw triad (else copy) at the largest working set
//   host_adam_params_per_s             cpu_adam params_per_s of the largest size
//   host_memcpy_bandwidth_bytes_per_s  host_memcpy bandwidth of the largest size
//
// Complexity: reading and writing are O(file size).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace foresight::calibrate {

enum class MeasurementKind {
  kGemm,
  kMemBw,
  kLaunch,
  kMemcpy,
  kCollective,
  kCpuGemm,
  kCpuMemBw,
  kCpuAdam,
  kHostMemcpy,
  kOverlap,
};

// "gemm", "membw", ... as written in files.
std::string_view KindName(MeasurementKind kind);
std::optional<MeasurementKind> ParseKind(std::string_view name);
std::vector<MeasurementKind> AllKinds();

struct ColumnSpec {
  std::string_view name;
  bool numeric = false;  // true: cells must be finite numbers
};
// The columns a kind requires, in the order the writer emits them.
const std::vector<ColumnSpec>& RequiredColumns(MeasurementKind kind);

using Metadata = std::vector<std::pair<std::string, std::string>>;  // ordered key, value

struct MeasurementTable {
  MeasurementKind kind = MeasurementKind::kGemm;
  Metadata metadata;  // table-level only (the `kind` line itself is not repeated here)
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // rows[i].size() == columns.size()
  std::vector<int> row_lines;                  // 1-based source line of each row (0 if built)
  int header_line = 0;                         // 1-based line of the header row (0 if built)

  // Index of a column or -1.
  int ColumnIndex(std::string_view name) const;
  // Cell accessors; FS_CHECK that the column exists and row < rows.size(). Number() of a
  // required numeric column never fails on a table returned by ReadMeasurements.
  const std::string& Text(std::size_t row, std::string_view column) const;
  double Number(std::size_t row, std::string_view column) const;
  // Appends a row; cells must match columns.size() (FS_CHECK).
  void AddRow(std::vector<std::string> cells);
};

struct MeasurementFile {
  std::string path;   // where it was read from (empty if built in memory)
  Metadata metadata;  // file-level
  std::vector<MeasurementTable> tables;

  // File-level value of key, or nullopt.
  std::optional<std::string> Meta(std::string_view key) const;
  // Table value if present, else file value.
  std::optional<std::string> Meta(const MeasurementTable& table, std::string_view key) const;
  // Tables of one kind, in file order.
  std::vector<const MeasurementTable*> TablesOf(MeasurementKind kind) const;
};

// A new empty table of `kind` whose columns are RequiredColumns(kind).
MeasurementTable MakeTable(MeasurementKind kind);

// Formats a number for a cell: shortest round-trip representation ("%.17g" trimmed), so that
// Write -> Read gives back the same double.
std::string FormatNumber(double value);

// Parses text; `path` is used only in error messages. Errors: file:line:column, what was found,
// what was expected.
Result<MeasurementFile> ParseMeasurements(std::string_view text, const std::string& path);
Result<MeasurementFile> ReadMeasurements(const std::string& path);

// True when `text` looks like a measurement file (first non-blank line is a `# ` metadata line
// and some line is `# kind: <known kind>`). Cheap; used by importers to detect the format.
bool LooksLikeMeasurements(std::string_view text);

// Writes the file (version line, file metadata, then each table). Checks every row has
// columns.size() cells and required columns are present (FS_CHECK: a programming error).
void WriteMeasurements(const MeasurementFile& file, std::ostream& out);
Status WriteMeasurementsFile(const MeasurementFile& file, const std::string& path);

}  // namespace foresight::calibrate
