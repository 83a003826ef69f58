// Writer for MLCommons Chakra execution-trace files: the inverse of reader.h.
//
// SerializeRankTrace emits GlobalMetadata then every node, each length-prefixed with a varint32,
// optionally gzip-compressed. Well-known attributes are written with the Chakra feeder's types
// (trace.h) in a fixed order (is_cpu_op, num_ops, tensor_size, comm_type, comm_size, comm_src,
// comm_dst, comm_tag, pg_name, comm_group_size), then the other attributes in order; a
// std::monostate attribute value cannot be written and is skipped. Reading the bytes back
// yields an equal RankTrace (file aside). Deterministic. O(nodes + attributes).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "chakra/trace.h"

namespace foresight::chakra {

std::string SerializeRankTrace(const RankTrace& trace, bool gzip = false);

// Writes `trace` to `path` (gzip when `gzip`); an unwritable path is an Error naming it.
Status WriteRankTrace(const RankTrace& trace, const std::string& path, bool gzip = false);

// Writes traces[r] to PREFIX.r.et for every r (traces[r].rank must be r).
Status WriteTraces(const std::vector<RankTrace>& traces, const std::string& prefix,
                   bool gzip = false);

}  // namespace foresight::chakra
