// systemd notifications (see supervisor.h).
#include "node/server/supervisor.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>

#include "node/base/log.h"

namespace cairn::server {

Supervisor::Supervisor(const std::string& mode) {
  if (mode == "no") return;
  if (mode == "upstart") {
    log::Server().warn("supervised upstart is not supported by Cairn; running unsupervised");
    return;
  }
  const bool have_socket = std::getenv("NOTIFY_SOCKET") != nullptr;
  if (!have_socket) {
    if (mode == "systemd")
      log::Server().warn(
          "systemd supervision requested, but the NOTIFY_SOCKET environment variable is not set: "
          "no notifications will be sent");
    return;
  }
  active_ = true;
  log::Server().info(
      "Supervised by systemd. Make sure TimeoutStartSec and TimeoutStopSec in the unit allow "
      "for loading and saving the dataset.");
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_period_ms_ = static_cast<int64_t>(usec / 1000);
    log::Server().info("systemd watchdog: pinging every {} ms", watchdog_period_ms_ / 2);
  }
}

void Supervisor::Send(const std::string& state) {
  if (!active_) return;
  if (int r = sd_notify(0, state.c_str()); r < 0)
    log::Server().warn("sd_notify failed: error {}", -r);
}

void Supervisor::Status(const std::string& text) { Send("STATUS=" + text); }

void Supervisor::Ready(const std::string& status) { Send("READY=1\nSTATUS=" + status); }

void Supervisor::Stopping() { Send("STOPPING=1\nSTATUS=Shutting down"); }

void Supervisor::WatchdogTick(int64_t now_ms) {
  if (!active_ || watchdog_period_ms_ == 0) return;
  if (now_ms - last_ping_ms_ < watchdog_period_ms_ / 2) return;
  last_ping_ms_ = now_ms;
  Send("WATCHDOG=1");
}

}  // namespace cairn::server
