// INFO: Redis 7.0's sections and field names, so tools that parse INFO (HAProxy
// checks, Sentinel, exporters, redis-cli) read Cairn as they read Redis.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "node/base/clock.h"
#include "node/base/memory.h"
#include "node/base/number.h"
#include "node/commands/command.h"
#include "node/commands/context.h"
#include "node/commands/info.h"
#include "node/commands/pubsub.h"
#include "node/store/db.h"

namespace cairn::cmd {
namespace {

std::string Human(size_t bytes) {
  char buf[64];
  double d = static_cast<double>(bytes);
  if (bytes < 1024) {
    std::snprintf(buf, sizeof(buf), "%zuB", bytes);
  } else if (bytes < 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fK", d / 1024);
  } else if (bytes < 1024ULL * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fM", d / (1024 * 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2fG", d / (1024.0 * 1024 * 1024));
  }
  return buf;
}

struct Writer {
  std::string out;
  bool first = true;
  void Section(const char* name) {
    if (!first) out += "\r\n";
    first = false;
    out += "# ";
    out += name;
    out += "\r\n";
  }
  template <typename T>
  void Field(const char* k, const T& v) {
    out += k;
    out += ':';
    if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      out += std::string_view(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(v));
      out += buf;
    } else {
      out += std::to_string(v);
    }
    out += "\r\n";
  }
};

void ServerSection(Writer& w, ServerState& s) {
  struct utsname un;
  uname(&un);
  int64_t now_us = base::RealWallUs();
  int64_t uptime = (base::RealWallMs() - s.start_time_ms) / 1000;
  const auto& cfg = s.config->v();
  w.Section("Server");
  w.Field("redis_version", "7.0.15");
  w.Field("redis_git_sha1", "00000000");
  w.Field("redis_git_dirty", 0);
  w.Field("redis_build_id", "0");
  w.Field("redis_mode", "standalone");
  w.Field("cairn_version", CAIRN_VERSION);
  w.Field("os", std::string(un.sysname) + " " + un.release + " " + un.machine);
  w.Field("arch_bits", 64);
  w.Field("monotonic_clock", "POSIX clock_gettime");
  w.Field("multiplexing_api", "epoll");
  w.Field("atomicvar_api", "c11-builtin");
  w.Field("gcc_version", std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
                             std::to_string(__GNUC_PATCHLEVEL__));
  w.Field("process_id", static_cast<int64_t>(getpid()));
  w.Field("process_supervised", cfg.supervised);
  w.Field("run_id", s.run_id);
  w.Field("tcp_port", s.port != 0 ? s.port : cfg.port);
  w.Field("server_time_usec", now_us);
  w.Field("uptime_in_seconds", uptime);
  w.Field("uptime_in_days", uptime / 86400);
  w.Field("hz", cfg.hz);
  w.Field("configured_hz", cfg.hz);
  w.Field("lru_clock", static_cast<int64_t>(store::LruClock() & ((1 << 24) - 1)));
  w.Field("executable", s.executable);
  w.Field("config_file", s.config->config_file());
  w.Field("io_threads_active", 0);
}

void ClientsSection(Writer& w, ServerState& s) {
  size_t max_in = 0, max_out = 0;
  for (auto& [id, c] : s.clients) {
    if (c->io) {
      max_in = std::max(max_in, c->io->QueryBufferLength() + c->io->QueryBufferFree());
      max_out = std::max(max_out, c->io->PendingOutput());
    }
  }
  w.Section("Clients");
  w.Field("connected_clients", s.clients.size());
  w.Field("cluster_connections", 0);
  w.Field("maxclients", s.config->v().maxclients);
  w.Field("client_recent_max_input_buffer", max_in);
  w.Field("client_recent_max_output_buffer", max_out);
  w.Field("blocked_clients", s.blocked_clients);
  w.Field("tracking_clients", 0);
  w.Field("clients_in_timeout_table", s.blocked_clients);
}

void MemorySection(Writer& w, ServerState& s) {
  size_t used = base::UsedMemory();
  size_t rss = base::ProcessRss();
  size_t peak = std::max(base::PeakMemory(), used);
  size_t total = base::TotalSystemMemory();
  size_t overhead = 0;
  for (auto& db : s.dbs) overhead += db->OverheadBytes();
  size_t startup = s.startup_memory;
  size_t dataset = used > overhead + startup ? used - overhead - startup : 0;
  const auto& cfg = s.config->v();
  w.Section("Memory");
  w.Field("used_memory", used);
  w.Field("used_memory_human", Human(used));
  w.Field("used_memory_rss", rss);
  w.Field("used_memory_rss_human", Human(rss));
  w.Field("used_memory_peak", peak);
  w.Field("used_memory_peak_human", Human(peak));
  char perc[32];
  std::snprintf(perc, sizeof(perc), "%.2f%%", peak ? 100.0 * used / peak : 0.0);
  w.Field("used_memory_peak_perc", std::string(perc));
  w.Field("used_memory_overhead", overhead + startup);
  w.Field("used_memory_startup", startup);
  w.Field("used_memory_dataset", dataset);
  std::snprintf(perc, sizeof(perc), "%.2f%%",
                used > startup ? 100.0 * dataset / (used - startup) : 0.0);
  w.Field("used_memory_dataset_perc", std::string(perc));
  w.Field("allocator_allocated", used);
  w.Field("allocator_active", used);
  w.Field("allocator_resident", rss);
  w.Field("total_system_memory", total);
  w.Field("total_system_memory_human", Human(total));
  w.Field("used_memory_lua", 0);
  w.Field("used_memory_vm_eval", 0);
  w.Field("used_memory_lua_human", "0B");
  w.Field("used_memory_scripts_eval", 0);
  w.Field("number_of_cached_scripts", 0);
  w.Field("number_of_functions", 0);
  w.Field("number_of_libraries", 0);
  w.Field("used_memory_vm_functions", 0);
  w.Field("used_memory_vm_total", 0);
  w.Field("used_memory_vm_total_human", "0B");
  w.Field("used_memory_functions", 0);
  w.Field("used_memory_scripts", 0);
  w.Field("used_memory_scripts_human", "0B");
  w.Field("maxmemory", cfg.maxmemory);
  w.Field("maxmemory_human", Human(static_cast<size_t>(cfg.maxmemory)));
  w.Field("maxmemory_policy", cfg.maxmemory_policy);
  double frag = used ? static_cast<double>(rss) / static_cast<double>(used) : 0.0;
  w.Field("allocator_frag_ratio", 1.0);
  w.Field("allocator_frag_bytes", 0);
  w.Field("allocator_rss_ratio", 1.0);
  w.Field("allocator_rss_bytes", 0);
  w.Field("rss_overhead_ratio", 1.0);
  w.Field("rss_overhead_bytes", 0);
  w.Field("mem_fragmentation_ratio", frag);
  w.Field("mem_fragmentation_bytes", static_cast<int64_t>(rss) - static_cast<int64_t>(used));
  w.Field("mem_not_counted_for_evict", 0);
  w.Field("mem_replication_backlog", s.replication ? s.replication->BacklogMemory() : 0);
  w.Field("mem_total_replication_buffers", 0);
  w.Field("mem_clients_slaves", 0);
  w.Field("mem_clients_normal", 0);
  w.Field("mem_cluster_links", 0);
  w.Field("mem_aof_buffer", 0);
  w.Field("mem_allocator", base::AllocatorName());
  w.Field("active_defrag_running", 0);
  w.Field("lazyfree_pending_objects", 0);
  w.Field("lazyfreed_objects", 0);
}

void PersistenceSection(Writer& w, ServerState& s) {
  const PersistStats& p = s.persist;
  const int64_t now_s = base::RealWallMs() / 1000;
  auto since = [&](int64_t ms) { return now_s - ms / 1000; };
  const bool rdb_child = p.child == ChildKind::kRdb, aof_child = p.child == ChildKind::kAof;
  w.Section("Persistence");
  w.Field("loading", s.loading ? 1 : 0);
  w.Field("async_loading", 0);
  w.Field("current_cow_peak", 0);
  w.Field("current_cow_size", 0);
  w.Field("current_cow_size_age", 0);
  w.Field("current_fork_perc", "0.00");
  w.Field("current_save_keys_processed", 0);
  w.Field("current_save_keys_total", 0);
  w.Field("rdb_changes_since_last_save", s.dirty);
  w.Field("rdb_bgsave_in_progress", rdb_child ? 1 : 0);
  w.Field("rdb_last_save_time", s.lastsave_s);
  w.Field("rdb_last_bgsave_status", p.last_bgsave_ok ? "ok" : "err");
  w.Field("rdb_last_bgsave_time_sec", p.rdb_last_bgsave_time_sec);
  w.Field("rdb_current_bgsave_time_sec", rdb_child ? since(p.child_start_ms) : -1);
  w.Field("rdb_saves", p.rdb_saves);
  w.Field("rdb_last_cow_size", p.rdb_last_cow_size);
  w.Field("rdb_last_load_keys_expired", p.rdb_last_load_keys_expired);
  w.Field("rdb_last_load_keys_loaded", p.rdb_last_load_keys_loaded);
  w.Field("aof_enabled", p.aof_enabled ? 1 : 0);
  w.Field("aof_rewrite_in_progress", aof_child ? 1 : 0);
  w.Field("aof_rewrite_scheduled", p.aof_rewrite_scheduled ? 1 : 0);
  w.Field("aof_last_rewrite_time_sec", p.aof_last_rewrite_time_sec);
  w.Field("aof_current_rewrite_time_sec", aof_child ? since(p.child_start_ms) : -1);
  w.Field("aof_last_bgrewrite_status", p.aof_last_bgrewrite_ok ? "ok" : "err");
  w.Field("aof_rewrites", p.aof_rewrites);
  w.Field("aof_rewrites_consecutive_failures", p.aof_rewrites_consecutive_failures);
  w.Field("aof_last_write_status", p.aof_last_write_errno == 0 ? "ok" : "err");
  w.Field("aof_last_cow_size", p.aof_last_cow_size);
  w.Field("module_fork_in_progress", 0);
  w.Field("module_fork_last_cow_size", 0);
  if (p.aof_enabled) {
    w.Field("aof_current_size", p.aof_current_size);
    w.Field("aof_base_size", p.aof_base_size);
    w.Field("aof_pending_rewrite", p.aof_rewrite_scheduled ? 1 : 0);
    w.Field("aof_buffer_length", p.aof_buffer_length);
    w.Field("aof_pending_bio_fsync", p.aof_pending_fsync ? 1 : 0);
    w.Field("aof_delayed_fsync", p.aof_delayed_fsync);
  }
  if (s.loading) {
    double frac = p.loading_total_bytes
                      ? static_cast<double>(p.loading_loaded_bytes) / p.loading_total_bytes
                      : 0.0;
    int64_t elapsed = now_s - p.loading_start_s;
    int64_t eta = frac > 0 ? static_cast<int64_t>(elapsed / frac) - elapsed : 1;
    char perc[32];
    snprintf(perc, sizeof(perc), "%.2f", frac * 100);
    w.Field("loading_start_time", p.loading_start_s);
    w.Field("loading_total_bytes", p.loading_total_bytes);
    w.Field("loading_rdb_used_mem", p.loading_rdb_used_mem);
    w.Field("loading_loaded_bytes", p.loading_loaded_bytes);
    w.Field("loading_loaded_perc", perc);
    w.Field("loading_eta_seconds", eta);
  }
}

void StatsSection(Writer& w, ServerState& s) {
  const auto& st = s.stats;
  const auto& ks = store::Stats();
  w.Section("Stats");
  w.Field("total_connections_received", st.total_connections_received);
  w.Field("total_commands_processed", st.total_commands_processed);
  w.Field("instantaneous_ops_per_sec", static_cast<int64_t>(st.instantaneous_ops_per_sec));
  w.Field("total_net_input_bytes", st.net_input_bytes);
  w.Field("total_net_output_bytes", st.net_output_bytes);
  w.Field("total_net_repl_input_bytes", s.repl_stats.net_repl_input_bytes);
  w.Field("total_net_repl_output_bytes", s.repl_stats.net_repl_output_bytes);
  w.Field("instantaneous_input_kbps", st.instantaneous_input_kbps);
  w.Field("instantaneous_output_kbps", st.instantaneous_output_kbps);
  w.Field("instantaneous_input_repl_kbps", 0.0);
  w.Field("instantaneous_output_repl_kbps", 0.0);
  w.Field("rejected_connections", st.rejected_connections);
  w.Field("sync_full", s.repl_stats.sync_full);
  w.Field("sync_partial_ok", s.repl_stats.sync_partial_ok);
  w.Field("sync_partial_err", s.repl_stats.sync_partial_err);
  w.Field("expired_keys", ks.expired);
  w.Field("expired_stale_perc", 0.0);
  w.Field("expired_time_cap_reached_count", 0);
  w.Field("expire_cycle_cpu_milliseconds", ks.expire_cycle_time_used_us / 1000);
  w.Field("evicted_keys", ks.evicted);
  w.Field("evicted_clients", 0);
  w.Field("total_eviction_exceeded_time", 0);
  w.Field("current_eviction_exceeded_time", 0);
  w.Field("keyspace_hits", ks.hits);
  w.Field("keyspace_misses", ks.misses);
  w.Field("pubsub_channels", s.channels.size());
  w.Field("pubsub_patterns", s.patterns.size());
  w.Field("pubsubshard_channels", ShardChannelCount(s));
  w.Field("latest_fork_usec", s.persist.latest_fork_usec);
  w.Field("total_forks", s.persist.total_forks);
  w.Field("migrate_cached_sockets", 0);
  w.Field("slave_expires_tracked_keys", 0);
  w.Field("active_defrag_hits", 0);
  w.Field("active_defrag_misses", 0);
  w.Field("active_defrag_key_hits", 0);
  w.Field("active_defrag_key_misses", 0);
  w.Field("total_active_defrag_time", 0);
  w.Field("current_active_defrag_time", 0);
  w.Field("tracking_total_keys", 0);
  w.Field("tracking_total_items", 0);
  w.Field("tracking_total_prefixes", 0);
  w.Field("unexpected_error_replies", st.unexpected_error_replies);
  w.Field("total_error_replies", st.total_error_replies);
  w.Field("dump_payload_sanitizations", 0);
  w.Field("total_reads_processed", st.total_commands_processed);
  w.Field("total_writes_processed", st.total_commands_processed);
  w.Field("io_threaded_reads_processed", 0);
  w.Field("io_threaded_writes_processed", 0);
  w.Field("client_query_buffer_limit_disconnections", st.client_qbuf_limit_disconnections);
  w.Field("client_output_buffer_limit_disconnections", st.client_outbuf_limit_disconnections);
}

void ReplicationSection(Writer& w, ServerState& s) {
  w.Section("Replication");
  if (s.replication == nullptr) {
    w.Field("role", "master");
    w.Field("connected_slaves", 0);
    return;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  s.replication->InfoFields(&fields);
  for (const auto& [k, v] : fields) w.Field(k.c_str(), v);
}

void CpuSection(Writer& w) {
  struct rusage self, children;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  char buf[64];
  auto put = [&](const char* k, double v) {
    std::snprintf(buf, sizeof(buf), "%.6f", v);
    w.Field(k, std::string(buf));
  };
  w.Section("CPU");
  put("used_cpu_sys", secs(self.ru_stime));
  put("used_cpu_user", secs(self.ru_utime));
  put("used_cpu_sys_children", secs(children.ru_stime));
  put("used_cpu_user_children", secs(children.ru_utime));
  put("used_cpu_sys_main_thread", secs(self.ru_stime));
  put("used_cpu_user_main_thread", secs(self.ru_utime));
}

void CommandStatsLine(Writer& w, const CommandSpec& c) {
  if (c.calls == 0 && c.rejected_calls == 0 && c.failed_calls == 0) return;
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu",
                static_cast<unsigned long long>(c.calls), static_cast<unsigned long long>(c.usec),
                c.calls ? static_cast<double>(c.usec) / c.calls : 0.0,
                static_cast<unsigned long long>(c.rejected_calls),
                static_cast<unsigned long long>(c.failed_calls));
  std::string key = "cmdstat_" + c.name;
  w.Field(key.c_str(), std::string(buf));
}

void CommandStatsSection(Writer& w, ServerState& s) {
  w.Section("Commandstats");
  for (const auto& [name, c] : s.commands->all()) {
    CommandStatsLine(w, *c);
    for (const auto& [sub, sc] : c->subcommands) CommandStatsLine(w, *sc);
  }
}

void ErrorStatsSection(Writer& w, ServerState& s) {
  w.Section("Errorstats");
  for (const auto& [code, n] : s.stats.errorstats) {
    std::string key = "errorstat_" + code;
    w.Field(key.c_str(), "count=" + std::to_string(n));
  }
}

void KeyspaceSection(Writer& w, ServerState& s) {
  w.Section("Keyspace");
  for (int i = 0; i < s.db_count(); i++) {
    store::Db& db = s.db(i);
    if (db.size() == 0) continue;
    std::string key = "db" + std::to_string(i);
    w.Field(key.c_str(), "keys=" + std::to_string(db.size()) +
                             ",expires=" + std::to_string(db.expires_size()) +
                             ",avg_ttl=" + std::to_string(db.avg_ttl_ms()));
  }
}

}  // namespace

std::string GenerateInfo(ServerState& s, const std::vector<std::string>& requested) {
  std::set<std::string> want;
  bool all = false, everything = false, defaults = requested.empty();
  for (const auto& r : requested) {
    std::string l = base::ToLower(r);
    if (l == "all")
      all = true;
    else if (l == "everything")
      everything = true;
    else if (l == "default")
      defaults = true;
    else
      want.insert(l);
  }
  auto on = [&](const char* name, bool in_default) {
    // "all" differs from "everything" only by module sections, which Cairn has none of.
    return everything || all || (defaults && in_default) || want.count(name) > 0;
  };
  Writer w;
  if (on("server", true)) ServerSection(w, s);
  if (on("clients", true)) ClientsSection(w, s);
  if (on("memory", true)) MemorySection(w, s);
  if (on("persistence", true)) PersistenceSection(w, s);
  if (on("stats", true)) StatsSection(w, s);
  if (on("replication", true)) ReplicationSection(w, s);
  if (on("secure", true) && s.secure_info) {
    w.Section("Secure");
    for (const auto& [k, v] : s.secure_info()) w.Field(k.c_str(), v);
  }
  if (on("backup", true) && s.backup) {
    w.Section("Backup");
    for (const auto& [k, v] : s.backup->InfoFields()) w.Field(k.c_str(), v);
  }
  if (on("cpu", true)) CpuSection(w);
  if (on("modules", true)) w.Section("Modules");
  if (on("commandstats", false)) CommandStatsSection(w, s);
  if (on("errorstats", true)) ErrorStatsSection(w, s);
  if (on("cluster", true)) {
    w.Section("Cluster");
    w.Field("cluster_enabled", 0);
  }
  if (on("keyspace", true)) KeyspaceSection(w, s);
  return w.out;
}

}  // namespace cairn::cmd
