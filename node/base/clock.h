// Time as the server sees it. Commands read a cached "command time" so that one
// command sees one instant (as Redis does); tests can freeze the clock.
#pragma once

#include <cstdint>
#include <optional>

namespace cairn::base {

int64_t RealWallMs();   // milliseconds since the epoch
int64_t RealWallUs();   // microseconds since the epoch
int64_t MonotonicUs();  // monotonic microseconds, for durations

// The wall time commands use: frozen while a command runs, else real time.
int64_t NowMs();

// Freezes NowMs() for the lifetime of the scope (one command execution).
class ScopedCommandTime {
 public:
  ScopedCommandTime();
  ~ScopedCommandTime();
  ScopedCommandTime(const ScopedCommandTime&) = delete;
  ScopedCommandTime& operator=(const ScopedCommandTime&) = delete;

 private:
  bool outer_;
};

// Test seam: a fixed wall clock (nullopt restores the real one).
void SetFakeWallMs(std::optional<int64_t> ms);

}  // namespace cairn::base
