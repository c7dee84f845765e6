// Clock implementation: real clocks plus the per-command frozen time.
#include "node/base/clock.h"

#include <chrono>

namespace cairn::base {
namespace {
std::optional<int64_t> g_fake_ms;
int64_t g_frozen_ms = 0;
int g_freeze_depth = 0;
}  // namespace

int64_t RealWallMs() {
  if (g_fake_ms) return *g_fake_ms;
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t RealWallUs() {
  if (g_fake_ms) return *g_fake_ms * 1000;
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t MonotonicUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

int64_t NowMs() { return g_freeze_depth > 0 ? g_frozen_ms : RealWallMs(); }

ScopedCommandTime::ScopedCommandTime() : outer_(g_freeze_depth == 0) {
  if (outer_) g_frozen_ms = RealWallMs();
  ++g_freeze_depth;
}

ScopedCommandTime::~ScopedCommandTime() { --g_freeze_depth; }

void SetFakeWallMs(std::optional<int64_t> ms) { g_fake_ms = ms; }

}  // namespace cairn::base
