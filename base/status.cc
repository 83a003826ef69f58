#include "base/status.h"

#include <cstdio>
#include <cstdlib>

namespace foresight {

std::string Error::ToString() const {
  if (file.empty()) return message;
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out + ": " + message;
}

namespace internal {
void CheckFailed(const char* condition, const char* file, int line, const std::string& message) {
  std::fprintf(stderr, "FS_CHECK failed at %s:%d: %s: %s\n", file, line, condition,
               message.c_str());
  std::abort();
}
}  // namespace internal

}  // namespace foresight
