#include "chakra/internal/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "base/check.h"

namespace foresight::chakra::internal {

bool IsGzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

Result<std::string> Gunzip(std::string_view bytes, const std::string& source,
                           std::int64_t max_bytes) {
  z_stream z{};
  // 16 + MAX_WBITS: expect a gzip header and trailer.
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    return Error{"cannot initialise zlib to decompress the trace", source, 0, 0};
  }
  std::string out;
  std::size_t in_pos = 0;
  constexpr std::size_t kChunk = 1 << 16;
  int rc = Z_OK;
  while (true) {
    const std::size_t in_left = bytes.size() - in_pos;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + in_pos));
    z.avail_in =
        static_cast<uInt>(std::min<std::size_t>(in_left, std::numeric_limits<uInt>::max()));
    const std::size_t old_size = out.size();
    out.resize(old_size + kChunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + old_size);
    z.avail_out = static_cast<uInt>(kChunk);
    const uInt avail_in_before = z.avail_in;
    rc = inflate(&z, Z_NO_FLUSH);
    in_pos += avail_in_before - z.avail_in;
    out.resize(old_size + (kChunk - z.avail_out));
    if (static_cast<std::int64_t>(out.size()) > max_bytes) {
      inflateEnd(&z);
      return Error{"decompressed trace exceeds the limit of " + std::to_string(max_bytes) +
                       " bytes (oversized or corrupt gzip stream)",
                   source, 0, 0};
    }
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (concatenated .gz files).
      if (in_pos < bytes.size() && IsGzip(bytes.substr(in_pos))) {
        inflateReset(&z);
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && in_pos >= bytes.size()) {
      inflateEnd(&z);
      return Error{"truncated gzip stream: the compressed data ends before the end marker", source,
                   0, 0};
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string why = z.msg != nullptr ? z.msg : "error " + std::to_string(rc);
      inflateEnd(&z);
      return Error{"corrupt gzip stream at compressed byte " + std::to_string(in_pos) + ": " + why,
                   source, 0, 0};
    }
  }
  inflateEnd(&z);
  return out;
}

std::string Gzip(std::string_view bytes) {
  z_stream z{};
  const int init =
      deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  FS_CHECK(init == Z_OK, "deflateInit2 failed");
  std::string out;
  std::size_t in_pos = 0;
  constexpr std::size_t kChunk = 1 << 16;
  while (true) {
    const std::size_t in_left = bytes.size() - in_pos;
    const auto take = std::min<std::size_t>(in_left, std::numeric_limits<uInt>::max());
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + in_pos));
    z.avail_in = static_cast<uInt>(take);
    const int flush = take == in_left ? Z_FINISH : Z_NO_FLUSH;
    int rc = Z_OK;
    do {
      const std::size_t old_size = out.size();
      out.resize(old_size + kChunk);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + old_size);
      z.avail_out = static_cast<uInt>(kChunk);
      rc = deflate(&z, flush);
      FS_CHECK(rc != Z_STREAM_ERROR, "deflate failed");
      out.resize(old_size + (kChunk - z.avail_out));
    } while (z.avail_out == 0);
    in_pos += take;
    if (flush == Z_FINISH) {
      FS_CHECK(rc == Z_STREAM_END, "deflate did not finish");
      break;
    }
  }
  deflateEnd(&z);
  return out;
}

}  // namespace foresight::chakra::internal
