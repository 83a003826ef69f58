// Numeric formats used for compute and storage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace foresight {

enum class Dtype : std::uint8_t { kFp32, kTf32, kBf16, kFp16, kFp8 };

// Storage bytes of one element (tf32 is stored as fp32; fp8 is one byte).
int BytesOf(Dtype dtype);
std::string_view DtypeName(Dtype dtype);  // "fp32", "tf32", "bf16", "fp16", "fp8"
std::optional<Dtype> ParseDtype(std::string_view name);

}  // namespace foresight
