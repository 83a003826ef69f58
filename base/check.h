// FS_CHECK(cond, message): internal invariant. On failure prints the condition, location and
// message to stderr and aborts. Use only for programming errors, never for user input (user
// input errors are returned as foresight::Error).
#pragma once

#include <string>

namespace foresight::internal {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line,
                              const std::string& message);
}  // namespace foresight::internal

#define FS_CHECK(cond, message)                                                 \
  do {                                                                          \
    if (!(cond)) [[unlikely]] {                                                 \
      ::foresight::internal::CheckFailed(#cond, __FILE__, __LINE__, (message)); \
    }                                                                           \
  } while (false)
