// Logger construction and Redis's line format.
#include "node/base/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <vector>

namespace cairn::log {
namespace {

std::atomic<char> g_role{'M'};
const pid_t g_main_pid = getpid();

// %* : the role mark ('C' in a forked child, whatever SetRole said otherwise).
class RoleFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    char c = getpid() == g_main_pid ? g_role.load() : 'C';
    dest.push_back(c);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RoleFlag>();
  }
};

// %~ : Redis's level mark.
class LevelFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    char c = '#';
    switch (msg.level) {
      case spdlog::level::trace:
        c = '.';
        break;
      case spdlog::level::debug:
        c = '-';
        break;
      case spdlog::level::info:
        c = '*';
        break;
      default:
        c = '#';
    }
    dest.push_back(c);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<LevelFlag>();
  }
};

struct Loggers {
  std::shared_ptr<spdlog::logger> server, net, cmd, repl, persist, backup, crypto;
  std::vector<std::shared_ptr<spdlog::logger>*> all() {
    return {&server, &net, &cmd, &repl, &persist, &backup, &crypto};
  }
};

std::unique_ptr<spdlog::formatter> MakeFormatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<RoleFlag>('*').add_flag<LevelFlag>('~');
  f->set_pattern("%P:%* %d %b %Y %H:%M:%S.%e %~ %v");
  return f;
}

Loggers& Get() {
  static Loggers* l = [] {
    auto* ls = new Loggers();
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    sink->set_formatter(MakeFormatter());
    const char* names[] = {"server", "net", "cmd", "repl", "persist", "backup", "crypto"};
    int i = 0;
    for (auto* p : ls->all()) {
      *p = std::make_shared<spdlog::logger>(names[i++], sink);
      (*p)->set_level(spdlog::level::info);
      (*p)->flush_on(spdlog::level::trace);
    }
    return ls;
  }();
  return *l;
}

}  // namespace

Result<spdlog::level::level_enum> ParseLevel(std::string_view name) {
  if (name == "debug") return spdlog::level::trace;
  if (name == "verbose") return spdlog::level::debug;
  if (name == "notice") return spdlog::level::info;
  if (name == "warning") return spdlog::level::warn;
  if (name == "nothing") return spdlog::level::off;
  return Status::InvalidArgument(
      "argument(s) must be one of the following: debug, verbose, notice, warning, nothing");
}

Status Setup(std::string_view level, const std::string& logfile) {
  auto lvl = ParseLevel(level);
  if (!lvl.ok()) return lvl.status();
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (logfile.empty()) {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(logfile, false);
    } catch (const spdlog::spdlog_ex& e) {
      return Status::IOError("Can't open the log file: " + std::string(e.what()));
    }
  }
  sink->set_formatter(MakeFormatter());
  for (auto* p : Get().all()) {
    (*p)->sinks().clear();
    (*p)->sinks().push_back(sink);
    (*p)->set_level(*lvl);
  }
  return Status::Ok();
}

void SetRole(char role) { g_role = role; }

spdlog::logger& Server() { return *Get().server; }
spdlog::logger& Net() { return *Get().net; }
spdlog::logger& Cmd() { return *Get().cmd; }
spdlog::logger& Repl() { return *Get().repl; }
spdlog::logger& Persist() { return *Get().persist; }
spdlog::logger& Backup() { return *Get().backup; }
spdlog::logger& Crypto() { return *Get().crypto; }

}  // namespace cairn::log
