// Reader for MLCommons Chakra execution-trace files (PREFIX.RANK.et).
//
// File format: a stream of protobuf messages, each preceded by its length as a varint32; the
// first is GlobalMetadata, every further one a Node (et_def.proto). The whole file may be gzip
// compressed; that is detected from the magic bytes (1f 8b), not from the file name.
//
// Robustness: the file is read whole (at most ReadLimits::max_file_bytes, after gunzip at most
// max_decompressed_bytes) and parsed with a protobuf CodedInputStream under a length limit per
// message. A truncated length prefix, a message longer than the bytes left or than
// max_message_bytes, an unparsable message, an unknown node type, a well-known attribute of the
// wrong type or more than max_nodes nodes each yield an Error whose message names the file, the
// message number and the node id (the node's own id when it could be parsed, else the id of the
// node before it). Nothing here throws or aborts on bad input.
//
// This layer checks syntax only; ids, dependencies and cycles are checked by BuildRankGraph
// (graph.h). Cost: O(file bytes) time; memory: the file plus the decoded nodes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chakra/trace.h"

namespace foresight::chakra {

struct ReadLimits {
  std::int64_t max_file_bytes = std::int64_t{1} << 30;          // on disk
  std::int64_t max_decompressed_bytes = std::int64_t{1} << 30;  // after gunzip (< 2 GiB)
  std::int64_t max_message_bytes = std::int64_t{64} << 20;      // one metadata or node message
  std::int64_t max_nodes = 50'000'000;
};

// Parses the bytes of one rank's file (plain or gzip). `file` names it in errors.
Result<RankTrace> ParseRankTrace(std::string_view bytes, const std::string& file, std::int32_t rank,
                                 const ReadLimits& limits = {});

// Reads PATH (a missing or unreadable file is an Error naming it).
Result<RankTrace> ReadRankTrace(const std::string& path, std::int32_t rank,
                                const ReadLimits& limits = {});

// Reads PREFIX.0.et .. PREFIX.(ranks-1).et. Every rank file must exist: a missing one is an
// Error naming it (and how many of the expected files were found), never skipped.
Result<std::vector<RankTrace>> ReadTraces(const std::string& prefix, std::int32_t ranks,
                                          const ReadLimits& limits = {});

}  // namespace foresight::chakra
