#include "calibrate/cpu_kernels.h"

#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <thread>

#include "base/check.h"

namespace foresight::calibrate {
namespace {

using Clock = std::chrono::steady_clock;

// Keeps the compiler from discarding a computed value or the stores behind a pointer.
template <typename T>
void KeepAlive(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

Timing Summarize(std::vector<double> per_call_s) {
  FS_CHECK(!per_call_s.empty(), "no timed repetitions");
  std::sort(per_call_s.begin(), per_call_s.end());
  const std::size_t n = per_call_s.size();
  const double median =
      n % 2 ? per_call_s[n / 2] : 0.5 * (per_call_s[n / 2 - 1] + per_call_s[n / 2]);
  return Timing{static_cast<int>(n), median, per_call_s.front()};
}

// Runs `repetition(inner)` (which performs `inner` calls) per the policy.
Timing TimeRepetitions(const std::function<void(std::int64_t)>& repetition,
                       const RepeatPolicy& policy) {
  FS_CHECK(policy.repeats >= 1 && policy.warmup >= 0, "bad repeat policy");
  const Clock::time_point t0 = Clock::now();
  repetition(1);
  const double first_s = std::max(Seconds(Clock::now() - t0), 1e-9);
  const auto inner =
      static_cast<std::int64_t>(std::max(1.0, std::ceil(policy.min_repetition_s / first_s)));
  for (int i = 0; i < policy.warmup; ++i) repetition(inner);
  std::vector<double> per_call_s;
  for (int i = 0; i < policy.repeats; ++i) {
    const Clock::time_point start = Clock::now();
    repetition(inner);
    per_call_s.push_back(Seconds(Clock::now() - start) / static_cast<double>(inner));
  }
  return Summarize(std::move(per_call_s));
}

std::vector<std::string> TimingCells(const Timing& t) {
  return {std::to_string(t.repeats), FormatNumber(t.median_s), FormatNumber(t.min_s)};
}

// fp32 elements in `bytes` (at least one).
std::int64_t Elements(std::int64_t bytes) {
  return std::max<std::int64_t>(1, bytes / static_cast<std::int64_t>(sizeof(float)));
}

double Best(const MeasurementTable* table, std::string_view column,
            const std::function<bool(std::size_t)>& keep) {
  double best = 0;
  for (std::size_t r = 0; r < table->rows.size(); ++r) {
    if (keep(r)) best = std::max(best, table->Number(r, column));
  }
  return best;
}

}  // namespace

CpuSuiteOptions CpuSuiteOptions::Quick(int threads) {
  CpuSuiteOptions o;
  o.policy = RepeatPolicy{1, 5, 0.002};
  o.threads = threads;
  o.gemm_shapes = {{64, 64, 64}, {256, 256, 256}, {512, 512, 512}};
  o.membw_array_bytes = {std::int64_t{256} << 10, std::int64_t{32} << 20};
  o.adam_params = {std::int64_t{1} << 20};
  o.memcpy_bytes = {std::int64_t{1} << 20, std::int64_t{32} << 20};
  return o;
}

CpuSuiteOptions CpuSuiteOptions::Full(int threads) {
  CpuSuiteOptions o;
  o.policy = RepeatPolicy{2, 9, 0.02};
  o.threads = threads;
  o.gemm_shapes = {{128, 128, 128},    {256, 256, 256},   {512, 512, 512},  {1024, 1024, 1024},
                   {2048, 2048, 2048}, {4096, 1024, 256}, {256, 4096, 1024}};
  for (int shift : {14, 18, 20, 23, 26, 27})
    o.membw_array_bytes.push_back(std::int64_t{1} << shift);
  o.adam_params = {std::int64_t{1} << 18, std::int64_t{1} << 22, std::int64_t{1} << 24};
  for (int shift : {12, 16, 20, 24, 27}) o.memcpy_bytes.push_back(std::int64_t{1} << shift);
  return o;
}

Timing TimeCalls(const std::function<void()>& call, const RepeatPolicy& policy) {
  return TimeRepetitions(
      [&](std::int64_t inner) {
        for (std::int64_t i = 0; i < inner; ++i) call();
      },
      policy);
}

Timing TimeParallel(int threads, std::int64_t n,
                    const std::function<void(std::int64_t, std::int64_t)>& body,
                    const RepeatPolicy& policy) {
  FS_CHECK(threads >= 1 && n >= 1, "TimeParallel needs threads >= 1 and n >= 1");
  return TimeRepetitions(
      [&](std::int64_t inner) {
        auto slice = [&](int t) {
          const std::int64_t begin = n * t / threads;
          const std::int64_t end = n * (t + 1) / threads;
          for (std::int64_t i = 0; i < inner; ++i) body(begin, end);
        };
        std::vector<std::thread> workers;
        for (int t = 1; t < threads; ++t) workers.emplace_back(slice, t);
        slice(0);
        for (std::thread& w : workers) w.join();
      },
      policy);
}

MeasurementTable MeasureCpuGemm(const std::vector<GemmShape>& shapes, const RepeatPolicy& policy) {
  MeasurementTable table = MakeTable(MeasurementKind::kCpuGemm);
  for (const GemmShape& s : shapes) {
    Eigen::MatrixXf a = Eigen::MatrixXf::Constant(s.m, s.k, 0.5f);
    Eigen::MatrixXf b = Eigen::MatrixXf::Constant(s.k, s.n, 0.25f);
    Eigen::MatrixXf c = Eigen::MatrixXf::Zero(s.m, s.n);
    const Timing t = TimeCalls(
        [&] {
          c.noalias() = a * b;
          KeepAlive(c(0, 0));
        },
        policy);
    const double flop =
        2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
    std::vector<std::string> row = {"fp32", std::to_string(s.m), std::to_string(s.n),
                                    std::to_string(s.k), std::to_string(Eigen::nbThreads())};
    for (std::string& cell : TimingCells(t)) row.push_back(std::move(cell));
    row.push_back(FormatNumber(flop / t.median_s));
    table.AddRow(std::move(row));
  }
  return table;
}

MeasurementTable MeasureCpuMemBw(const std::vector<std::int64_t>& array_bytes, int threads,
                                 const RepeatPolicy& policy) {
  MeasurementTable table = MakeTable(MeasurementKind::kCpuMemBw);
  for (std::int64_t bytes : array_bytes) {
    const std::int64_t n = Elements(bytes);
    const std::int64_t array_bytes_exact = n * static_cast<std::int64_t>(sizeof(float));
    std::vector<float> a(static_cast<std::size_t>(n), 1.0f);
    std::vector<float> b(static_cast<std::size_t>(n), 2.0f);
    std::vector<float> c(static_cast<std::size_t>(n), 0.5f);
    struct Op {
      const char* name;
      int arrays;  // arrays touched = traffic multiple (STREAM counting)
      std::function<void(std::int64_t, std::int64_t)> body;
    };
    const std::vector<Op> ops = {
        {"read", 1,
         [&](std::int64_t begin, std::int64_t end) {
           // Eigen's vectorised reduction: a plain `sum += a[i]` loop is bound by the add
           // latency (about 1 byte per cycle), not by memory.
           const float sum = Eigen::Map<const Eigen::VectorXf>(a.data() + begin, end - begin).sum();
           KeepAlive(sum);
         }},
        {"write", 1,
         [&](std::int64_t begin, std::int64_t end) {
           std::fill(c.begin() + begin, c.begin() + end, 3.0f);
           KeepAlive(c[static_cast<std::size_t>(begin)]);
         }},
        {"copy", 2,
         [&](std::int64_t begin, std::int64_t end) {
           std::copy(a.begin() + begin, a.begin() + end, c.begin() + begin);
           KeepAlive(c[static_cast<std::size_t>(begin)]);
         }},
        {"triad", 3,
         [&](std::int64_t begin, std::int64_t end) {
           const float scalar = 3.0f;
           for (std::int64_t i = begin; i < end; ++i) {
             const auto j = static_cast<std::size_t>(i);
             a[j] = b[j] + scalar * c[j];
           }
           KeepAlive(a[static_cast<std::size_t>(begin)]);
         }},
    };
    for (const Op& op : ops) {
      const Timing t = TimeParallel(threads, n, op.body, policy);
      const std::int64_t traffic = op.arrays * array_bytes_exact;
      std::vector<std::string> row = {op.name, std::to_string(traffic), std::to_string(traffic),
                                      std::to_string(threads)};
      for (std::string& cell : TimingCells(t)) row.push_back(std::move(cell));
      row.push_back(FormatNumber(static_cast<double>(traffic) / t.median_s));
      table.AddRow(std::move(row));
    }
  }
  return table;
}

MeasurementTable MeasureCpuAdam(const std::vector<std::int64_t>& params, int threads,
                                const RepeatPolicy& policy) {
  MeasurementTable table = MakeTable(MeasurementKind::kCpuAdam);
  for (std::int64_t count : params) {
    const auto n = static_cast<std::size_t>(count);
    std::vector<float> p(n, 0.1f), g(n, 0.01f), m(n, 0.0f), v(n, 0.0f);
    // AdamW at a fixed step t = 10 (bias corrections are per-step scalars, hoisted).
    const float lr = 1e-4f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.01f;
    const float c1 = 1.0f / (1.0f - std::pow(beta1, 10.0f));
    const float c2 = 1.0f / (1.0f - std::pow(beta2, 10.0f));
    const Timing t = TimeParallel(
        threads, count,
        [&](std::int64_t begin, std::int64_t end) {
          for (auto i = static_cast<std::size_t>(begin); i < static_cast<std::size_t>(end); ++i) {
            const float grad = g[i];
            m[i] = beta1 * m[i] + (1.0f - beta1) * grad;
            v[i] = beta2 * v[i] + (1.0f - beta2) * grad * grad;
            p[i] -= lr * ((m[i] * c1) / (std::sqrt(v[i] * c2) + eps) + weight_decay * p[i]);
          }
          KeepAlive(p[static_cast<std::size_t>(begin)]);
        },
        policy);
    const std::int64_t traffic = 28 * count;  // read p, g, m, v; write p, m, v (7 x 4 bytes)
    std::vector<std::string> row = {std::to_string(count), std::to_string(threads),
                                    std::to_string(traffic)};
    for (std::string& cell : TimingCells(t)) row.push_back(std::move(cell));
    row.push_back(FormatNumber(static_cast<double>(count) / t.median_s));
    table.AddRow(std::move(row));
  }
  return table;
}

MeasurementTable MeasureHostMemcpy(const std::vector<std::int64_t>& bytes,
                                   const RepeatPolicy& policy) {
  MeasurementTable table = MakeTable(MeasurementKind::kHostMemcpy);
  for (std::int64_t size : bytes) {
    std::vector<char> src(static_cast<std::size_t>(size), 1);
    std::vector<char> dst(static_cast<std::size_t>(size), 0);
    const Timing t = TimeCalls(
        [&] {
          std::memcpy(dst.data(), src.data(), src.size());
          KeepAlive(dst[0]);
        },
        policy);
    std::vector<std::string> row = {std::to_string(size), "1"};
    for (std::string& cell : TimingCells(t)) row.push_back(std::move(cell));
    row.push_back(FormatNumber(static_cast<double>(size) / t.median_s));
    table.AddRow(std::move(row));
  }
  return table;
}

Metadata HostIdentity() {
  Metadata meta;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "unknown");
  meta.emplace_back("host", host);
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &utc);
  meta.emplace_back("date", date);
  std::string model = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  meta.emplace_back("device", model);
  meta.emplace_back("host_cores", std::to_string(std::thread::hardware_concurrency()));
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_bytes = sysconf(_SC_PAGE_SIZE);
  meta.emplace_back("host_memory_bytes",
                    std::to_string(pages > 0 && page_bytes > 0 ? std::int64_t{pages} * page_bytes
                                                               : std::int64_t{0}));
#if defined(__clang__)
  meta.emplace_back("compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  meta.emplace_back("compiler", "gcc " __VERSION__);
#endif
  meta.emplace_back("eigen", std::to_string(EIGEN_WORLD_VERSION) + "." +
                                 std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                 std::to_string(EIGEN_MINOR_VERSION));
  return meta;
}

Metadata DeriveHostSection(const MeasurementFile& file) {
  Metadata out;
  auto all = [](std::size_t) { return true; };
  // Rate of the row with the largest size among those `keep` accepts (0 if none): out of
  // cache, the regime offloaded optimizer states and host copies live in.
  auto at_largest = [](const MeasurementTable* t, std::string_view size_col,
                       std::string_view rate_col, const std::function<bool(std::size_t)>& keep) {
    double size = -1, rate = 0;
    for (std::size_t r = 0; r < t->rows.size(); ++r) {
      if (keep(r) && t->Number(r, size_col) > size) {
        size = t->Number(r, size_col);
        rate = t->Number(r, rate_col);
      }
    }
    return rate;
  };
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kCpuGemm)) {
    out.emplace_back("host_gemm_flop_per_s", FormatNumber(Best(t, "flop_per_s", all)));
  }
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kCpuMemBw)) {
    auto op_is = [t](const char* op) {
      return [t, op](std::size_t r) { return t->Text(r, "op") == op; };
    };
    double rate = at_largest(t, "working_set_bytes", "bandwidth_bytes_per_s", op_is("triad"));
    if (rate == 0)
      rate = at_largest(t, "working_set_bytes", "bandwidth_bytes_per_s", op_is("copy"));
    out.emplace_back("host_memory_bandwidth_bytes_per_s", FormatNumber(rate));
  }
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kCpuAdam)) {
    out.emplace_back("host_adam_params_per_s",
                     FormatNumber(at_largest(t, "params", "params_per_s", all)));
  }
  for (const MeasurementTable* t : file.TablesOf(MeasurementKind::kHostMemcpy)) {
    out.emplace_back("host_memcpy_bandwidth_bytes_per_s",
                     FormatNumber(at_largest(t, "bytes", "bandwidth_bytes_per_s", all)));
  }
  return out;
}

MeasurementFile RunCpuSuite(const CpuSuiteOptions& options) {
  MeasurementFile file;
  file.metadata = HostIdentity();
  file.metadata.emplace_back("threads", std::to_string(options.threads));
  const std::string policy = "warmup " + std::to_string(options.policy.warmup) + ", repeats " +
                             std::to_string(options.policy.repeats) + ", min repetition " +
                             FormatNumber(options.policy.min_repetition_s) + " s";
  file.metadata.emplace_back("timing", policy);
  file.tables.push_back(MeasureCpuGemm(options.gemm_shapes, options.policy));
  file.tables.push_back(
      MeasureCpuMemBw(options.membw_array_bytes, options.threads, options.policy));
  file.tables.push_back(MeasureCpuAdam(options.adam_params, options.threads, options.policy));
  file.tables.push_back(MeasureHostMemcpy(options.memcpy_bytes, options.policy));
  for (auto& kv : DeriveHostSection(file)) file.metadata.push_back(std::move(kv));
  return file;
}

}  // namespace foresight::calibrate
