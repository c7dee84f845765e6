// Supervisor: tells a service manager where the node is, as redis.conf's
// `supervised systemd` does — systemd's notify protocol through libsystemd's
// sd_notify (Type=notify units): STATUS= lines while the dataset loads and while
// a replica syncs, READY=1 once the loop serves, STOPPING=1 at shutdown, and
// WATCHDOG=1 from the cron when the unit sets WatchdogSec (a stuck loop stops
// pinging and systemd restarts the node).
//
// `supervised auto` means systemd when NOTIFY_SOCKET is set; `upstart` is not
// supported (a warning); `no` sends nothing.
#pragma once

#include <cstdint>
#include <string>

namespace cairn::server {

class Supervisor {
 public:
  // `mode`: the supervised directive.
  explicit Supervisor(const std::string& mode);

  bool active() const { return active_; }
  void Status(const std::string& text);
  // READY=1 with a STATUS line.
  void Ready(const std::string& status);
  void Stopping();
  // WATCHDOG=1 when the unit asked for a watchdog and half its period passed.
  void WatchdogTick(int64_t now_ms);

 private:
  void Send(const std::string& state);

  bool active_ = false;
  int64_t watchdog_period_ms_ = 0;  // 0: no watchdog
  int64_t last_ping_ms_ = 0;
};

}  // namespace cairn::server
