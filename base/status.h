// Error and Result<T>: how every layer that reads user input reports failure.
//
// An Error carries a message and, when it comes from a file, the file name, 1-based line and
// column. ToString() renders "file:line:column: message" (or just the message). Nothing below
// cli/ prints or exits; errors travel up as values.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "base/check.h"

namespace foresight {

struct Error {
  std::string message;
  std::string file;  // empty when the error is not tied to a file
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based; 0 = unknown

  static Error At(std::string file, int line, int column, std::string message) {
    return Error{std::move(message), std::move(file), line, column};
  }
  std::string ToString() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    FS_CHECK(ok(), "Result::value() on error: " + std::get<Error>(v_).ToString());
    return std::get<T>(v_);
  }
  T& value() & {
    FS_CHECK(ok(), "Result::value() on error: " + std::get<Error>(v_).ToString());
    return std::get<T>(v_);
  }
  T&& value() && {
    FS_CHECK(ok(), "Result::value() on error: " + std::get<Error>(v_).ToString());
    return std::get<T>(std::move(v_));
  }
  const Error& error() const {
    FS_CHECK(!ok(), "Result::error() on a value");
    return std::get<Error>(v_);
  }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Status: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return Status(); }
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    FS_CHECK(!ok(), "Status::error() on OK");
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

}  // namespace foresight
