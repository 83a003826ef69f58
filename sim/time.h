// SimTime: simulated time as a strong type over int64 picoseconds.
//
// Doubles appear only at the boundary (FromSeconds / ToSeconds); they are rounded once, to the
// nearest picosecond. Times are compared exactly, never with an epsilon. Range: +-106 days.
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>

namespace foresight::sim {

class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime Picoseconds(std::int64_t ps) { return SimTime(ps); }
  static constexpr SimTime Nanoseconds(std::int64_t ns) { return SimTime(ns * 1000); }
  static constexpr SimTime Microseconds(std::int64_t us) { return SimTime(us * 1000000); }
  static constexpr SimTime Zero() { return SimTime(0); }
  static constexpr SimTime Max() { return SimTime(std::numeric_limits<std::int64_t>::max()); }
  // Rounds to the nearest picosecond; negative and non-finite inputs are the caller's bug.
  static SimTime FromSeconds(double seconds) {
    return SimTime(static_cast<std::int64_t>(std::llround(seconds * 1e12)));
  }

  constexpr std::int64_t ps() const { return ps_; }
  constexpr double ToSeconds() const { return static_cast<double>(ps_) * 1e-12; }
  constexpr double ToMicroseconds() const { return static_cast<double>(ps_) * 1e-6; }

  constexpr SimTime operator+(SimTime o) const { return SimTime(ps_ + o.ps_); }
  constexpr SimTime operator-(SimTime o) const { return SimTime(ps_ - o.ps_); }
  constexpr SimTime& operator+=(SimTime o) {
    ps_ += o.ps_;
    return *this;
  }
  constexpr SimTime& operator-=(SimTime o) {
    ps_ -= o.ps_;
    return *this;
  }
  constexpr SimTime operator*(std::int64_t k) const { return SimTime(ps_ * k); }
  constexpr auto operator<=>(const SimTime&) const = default;

 private:
  constexpr explicit SimTime(std::int64_t ps) : ps_(ps) {}
  std::int64_t ps_ = 0;
};

constexpr SimTime Max(SimTime a, SimTime b) { return a < b ? b : a; }
constexpr SimTime Min(SimTime a, SimTime b) { return a < b ? a : b; }

}  // namespace foresight::sim
