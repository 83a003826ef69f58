#include "chakra/internal/test_util.h"

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "chakra/internal/gzip.h"

namespace foresight::chakra::testing {

std::string ReadTarMember(const std::string& tar_gz, const std::string& suffix) {
  std::ifstream in(tar_gz, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  Result<std::string> tar = internal::Gunzip(buf.str(), tar_gz, std::int64_t{1} << 30);
  if (!tar.ok()) return "";
  const std::string& t = *tar;
  std::size_t pos = 0;
  while (pos + 512 <= t.size() && t[pos] != '\0') {
    const std::string name(t.c_str() + pos, strnlen(t.c_str() + pos, 100));
    const std::string prefix(t.c_str() + pos + 345, strnlen(t.c_str() + pos + 345, 155));
    const std::string full = prefix.empty() ? name : prefix + "/" + name;
    const std::size_t size = std::stoull(std::string(t.c_str() + pos + 124, 12), nullptr, 8);
    const char type = t[pos + 156];
    if ((type == '0' || type == '\0') && full.size() >= suffix.size() &&
        full.compare(full.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return t.substr(pos + 512, size);
    }
    pos += 512 + (size + 511) / 512 * 512;
  }
  return "";
}

std::string RealTraceBytes() {
  return ReadTarMember(
      std::string(FORESIGHT_SOURCE_DIR) + "/../shared/data/chakra/feeder_tests_trace.tar.gz",
      "chakra.0.et");
}

TempDir::TempDir() {
  std::random_device rd;
  dir_ = std::filesystem::temp_directory_path() /
         ("foresight_chakra_" + std::to_string(rd()) + "_" + std::to_string(rd()));
  std::filesystem::create_directories(dir_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

TraceNode MakeNode(std::uint64_t id, NodeType type, std::uint64_t duration_micros,
                   std::vector<std::uint64_t> data_deps) {
  TraceNode n;
  n.id = id;
  n.name = "n" + std::to_string(id);
  n.type = type;
  n.duration_micros = duration_micros;
  n.data_deps = std::move(data_deps);
  return n;
}

RankTrace MakeTrace(std::int32_t rank, std::vector<TraceNode> nodes) {
  RankTrace t;
  t.rank = rank;
  t.file = "test." + std::to_string(rank) + ".et";
  t.version = "1.0.0";
  t.nodes = std::move(nodes);
  return t;
}

}  // namespace foresight::chakra::testing
