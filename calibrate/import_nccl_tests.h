// Importer for nccl-tests output (github.com/NVIDIA/nccl-tests: all_reduce_perf, all_gather_perf,
// reduce_scatter_perf, alltoall_perf, sendrecv_perf, broadcast_perf, reduce_perf) as the logs
// really look, and for busbw summary tables (one size label and one busbw column per system).
//
// nccl-tests logs. Accepted: any `#` comment or metadata line; the "# Using devices" block with
// "Rank N ... on HOST device D [...] NAME" lines (possibly elided with "..."); non-comment log
// lines before the table (the command line, "NCCL version", NCCL INFO/WARN, SHARP lines); the
// column header "#  size count type redop [root] time algbw busbw #wrong|error time algbw busbw
// #wrong|error" (out-of-place then in-place; the in-place half may be absent); data rows with
// exactly as many fields as the header; "..." elisions; "# Avg bus bandwidth" footers; several
// tests back to back ("# Collective test starting: X_perf" starts a new series). Rows of 0 bytes
// are skipped (nothing is timed). Each row gives two points (out-of-place and in-place).
//
// What each series is, in order of precedence (every choice is recorded in CommSeries::notes):
//   op        "# Collective test starting: X_perf"; else the first "X_perf" token in the text
//             (command line, SOURCE header); else the file name.
//   ranks     the "Rank N" lines when complete (no "..." inside the device list); else the
//             busbw/algbw ratio of the row with the largest algbw (ratio = BusFactor(op, n),
//             solved for n; only for ops whose factor depends on n); else "-g N" on a command
//             line; else "<N>gpu" / "<N>rank" in the file name.
//   nodes     distinct hosts of complete "Rank" lines; else the quirk table; else "<N>node" in the
//             file name; else an error.
//   algorithm NCCL_ALGO=X in the text; else "ring" / "nvls" / "sharp" in the file name; else
//             "default"; the quirk table can override.
// Quirk table (kNcclQuirks in the .cc): per-file facts the content cannot tell, each with the
// reason quoted from the file's own header notes.
//
// Busbw summaries (e.g. Azure's AI-benchmarking-guide tables): lines "LABEL v1 v2 ..." where
// LABEL is a size like 1K, 65K, 132K, 1M, 8G (labels are rounded inconsistently, so each is
// snapped to the nearest power of two bytes) and each value is busbw in GB/s for one system; a
// "# Columns: label | name1 | name2" line names the systems. The op, ranks and nodes come from
// the quirk table; seconds are derived as bytes * BusFactor / busbw.
//
// Errors (file:line:column): a data row with the wrong field count or a non-numeric field, a
// table with no header, no determinable op, ranks or nodes, a file with no data rows.
// Complexity: O(file size).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "calibrate/comm_series.h"

namespace foresight::calibrate {

Result<std::vector<CommSeries>> ParseNcclTests(std::string_view text, const std::string& path);
Result<std::vector<CommSeries>> ParseBusbwSummary(std::string_view text, const std::string& path);

// True when the text has an nccl-tests column header line (size, count, type, time, busbw).
bool LooksLikeNcclTests(std::string_view text);
// True when the text has no nccl-tests header but at least three "SIZE-LABEL number..." rows.
bool LooksLikeBusbwSummary(std::string_view text);

}  // namespace foresight::calibrate
