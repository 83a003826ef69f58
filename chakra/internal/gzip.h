// gzip (RFC 1952) compression helpers over zlib, internal to chakra/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace foresight::chakra::internal {

// True when `bytes` starts with the gzip magic number 1f 8b.
bool IsGzip(std::string_view bytes);

// Decompresses a gzip stream (concatenated members are accepted). Fails, naming `source`, on a
// corrupt or truncated stream, or when the output would exceed `max_bytes`. O(output).
Result<std::string> Gunzip(std::string_view bytes, const std::string& source,
                           std::int64_t max_bytes);

// Compresses `bytes` into a gzip stream (default level). Deterministic (no file name or time
// in the header). O(input).
std::string Gzip(std::string_view bytes);

}  // namespace foresight::chakra::internal
