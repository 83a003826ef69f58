#include "search/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace foresight::search {
namespace {

using Clock = std::chrono::steady_clock;

class Progress {
 public:
  Progress(bool enabled, std::int64_t total) : enabled_(enabled), total_(total) {}
  // Called with the lock held by the caller.
  void Update(std::int64_t done, bool final = false) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (!final && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    constexpr int kWidth = 30;
    const int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : kWidth;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r[%s] %lld/%lld points  %.1f/s  ETA %.0fs   ", bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), rate, eta);
    if (final) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::int64_t total_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
};

std::string JoinIndices(const std::map<std::int64_t, Row>& finished) {
  std::string out;
  for (const auto& [point, row] : finished) out += std::to_string(point) + "\n";
  return out;
}

}  // namespace

int ResolveJobs(int jobs) {
  if (jobs > 0) return jobs;
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

Result<std::vector<Row>> RunPoints(std::int64_t num_points, const std::vector<std::string>& columns,
                                   const std::function<std::string(std::int64_t)>& hash_of,
                                   const std::function<Row(std::int64_t)>& evaluate,
                                   const RunOptions& options, RunStats* stats) {
  std::unique_ptr<Communicator> local;
  Communicator* comm = options.communicator;
  if (comm == nullptr) {
    local = LocalCommunicator();
    comm = local.get();
  }
  const bool root = comm->rank() == 0;

  // Rank 0 opens (and with --resume reads) the results file and tells the others what is done.
  std::map<std::int64_t, Row> finished;
  std::optional<ResultsFile> file;
  std::string message;  // "ok\n<indices>" or "error\n<text>"
  Error open_error;
  if (root) {
    message = "ok\n";
    if (!options.out_path.empty()) {
      Result<ResultsFile> opened = ResultsFile::Open(options.out_path, columns, options.resume,
                                                     num_points, hash_of, &finished);
      if (opened.ok()) {
        file.emplace(std::move(opened).value());
        message += JoinIndices(finished);
      } else {
        open_error = opened.error();
        message = "error\n" + open_error.ToString();
      }
    }
  }
  comm->Broadcast(&message);
  if (message.rfind("error\n", 0) == 0) {
    if (root) return open_error;
    return Error{message.substr(6), "", 0, 0};
  }
  std::vector<bool> done(static_cast<std::size_t>(num_points), false);
  for (std::size_t at = 3; at < message.size();) {
    const std::size_t end = message.find('\n', at);
    done[static_cast<std::size_t>(std::stoll(message.substr(at, end - at)))] = true;
    at = end + 1;
  }
  std::vector<std::int64_t> todo;
  for (std::int64_t i = comm->rank(); i < num_points; i += comm->size()) {
    if (!done[static_cast<std::size_t>(i)]) todo.push_back(i);
  }

  // Thread pool: workers take the next index; rows land in their slots.
  std::vector<std::optional<Row>> slots(todo.size());
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  Status write_status;
  std::int64_t completed = 0;
  Progress progress(options.progress && root, static_cast<std::int64_t>(todo.size()));
  auto worker = [&]() {
    while (true) {
      const std::size_t k = next.fetch_add(1);
      if (k >= todo.size()) return;
      Row row = evaluate(todo[k]);
      row.point = todo[k];
      row.hash = hash_of(todo[k]);
      std::lock_guard<std::mutex> lock(mutex);
      if (file && write_status.ok()) write_status = file->Append(row);
      slots[k] = std::move(row);
      progress.Update(++completed);
    }
  };
  const int jobs =
      std::min<int>(ResolveJobs(options.jobs), std::max<int>(1, static_cast<int>(todo.size())));
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  progress.Update(completed, /*final=*/true);

  // Rank 0 gathers the other ranks' rows (as JSON lines) and merges everything.
  std::string mine;
  if (!root) {
    for (const auto& slot : slots) mine += FormatRow(*slot, Format::kJsonLines, columns);
  }
  const std::vector<std::string> gathered = comm->Gather(mine);
  std::int64_t evaluated = static_cast<std::int64_t>(todo.size());
  if (!root) {
    if (stats != nullptr) stats->evaluated = evaluated;
    return std::vector<Row>{};
  }
  std::vector<Row> rows;
  rows.reserve(static_cast<std::size_t>(num_points));
  for (auto& [point, row] : finished) rows.push_back(std::move(row));
  for (auto& slot : slots) rows.push_back(std::move(*slot));
  for (std::size_t r = 1; r < gathered.size(); ++r) {
    Result<std::vector<Row>> theirs =
        ParseRows(gathered[r], "rank " + std::to_string(r), Format::kJsonLines, columns);
    if (!theirs.ok()) return theirs.error();
    evaluated += static_cast<std::int64_t>(theirs->size());
    for (Row& row : *theirs) {
      if (file && write_status.ok()) write_status = file->Append(row);
      rows.push_back(std::move(row));
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.point < b.point; });
  if (!write_status.ok()) return write_status.error();
  if (file) {
    if (Status s = file->Finish(rows); !s.ok()) return s.error();
  }
  if (stats != nullptr) {
    stats->evaluated = evaluated;
    stats->reused = static_cast<std::int64_t>(finished.size());
  }
  return rows;
}

}  // namespace foresight::search
