// Helpers shared by the chakra tests (test-only; not part of the library).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "chakra/trace.h"

namespace foresight::chakra::testing {

// The bytes of the first member of the ustar archive `tar_gz` (gzip-compressed) whose name ends
// with `suffix`; empty when absent. Reads 512-byte headers: name at 0 (100 bytes), size at 124
// (12 octal digits), type flag at 156, ustar prefix at 345; data padded to 512 bytes.
std::string ReadTarMember(const std::string& tar_gz, const std::string& suffix);

// The real MLCommons trace (../shared/data/chakra/feeder_tests_trace.tar.gz -> chakra.0.et).
std::string RealTraceBytes();

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

// A node for hand-built traces.
TraceNode MakeNode(std::uint64_t id, NodeType type, std::uint64_t duration_micros,
                   std::vector<std::uint64_t> data_deps = {});

// A trace of `nodes` for rank `rank`.
RankTrace MakeTrace(std::int32_t rank, std::vector<TraceNode> nodes);

}  // namespace foresight::chakra::testing
