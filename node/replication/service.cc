// Replication role, ids and REPLICAOF (see service.h).
#include "node/replication/service.h"

#include <cstdlib>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/commands/info.h"
#include "node/protocol/errors.h"
#include "node/store/db.h"

namespace cairn::repl {

namespace {

constexpr int kConnectRetryMs = 1000;

void LogCachedFromSelf() {
  log::Repl().info(
      "Before turning into a replica, using my own master parameters to synthesize a cached "
      "master: I may be able to synchronize with the new master with just a partial transfer.");
}

std::string ClientDescription(const cmd::ClientState& c) {
  return "id=" + std::to_string(c.id) + " addr=" + c.addr + " laddr=" + c.laddr + " name=" + c.name;
}

}  // namespace

ReplicationService::ReplicationService(cmd::ServerState& state, config::Config& config,
                                       boost::asio::io_context& io, cmd::Dispatcher& dispatcher,
                                       SnapshotSource& snapshots, DatasetLoader& loader,
                                       std::unique_ptr<net::Connector> connector)
    : state_(state),
      config_(config),
      io_(io),
      dispatcher_(dispatcher),
      loader_(loader),
      connector_(std::move(connector)),
      master_(state, config, io, ids_, snapshots) {
  state_.replication = this;
  state_.repl_offset = &ids_.offset;
}

ReplicationService::~ReplicationService() {
  Stop();
  if (state_.replication == this) {
    state_.replication = nullptr;
    state_.repl_offset = nullptr;
  }
}

void ReplicationService::Stop() {
  DropConnection();
  master_.DisconnectReplicas("shutting down");
}

void ReplicationService::Start(const std::map<std::string, std::string>& aux) {
  auto get = [&](const char* k) -> const std::string* {
    auto it = aux.find(k);
    return it == aux.end() ? nullptr : &it->second;
  };
  const std::string* id = get("repl-id");
  const std::string* off = get("repl-offset");
  const std::string* db = get("repl-stream-db");
  const bool replica = !config_.v().master_host.empty();
  if (id && off && db && id->size() == 40 && atoi(db->c_str()) != -1) {
    int64_t offset = strtoll(off->c_str(), nullptr, 10);
    if (replica) {
      // The dump a replica wrote knows where its master's stream stood.
      ids_.Adopt(*id, offset);
      have_history_ = true;
      cached_db_ = atoi(db->c_str());
      LogCachedFromSelf();
    } else {
      // A restarted master keeps serving its old history as replid2.
      ids_.replid2 = *id;
      ids_.second_offset = offset + 1;
      ids_.offset = offset;
      master_.CreateBacklog();
      master_.set_selected_db(-1);
    }
  }
  if (replica) SetMaster(config_.v().master_host, config_.v().master_port, false);
}

bool ReplicationService::MasterLinkUp() const {
  return conn_ && conn_->state() == ReplState::kConnected;
}

bool ReplicationService::FillSaveInfo(persist::RdbAuxInfo* aux) {
  if (!IsReplica()) {
    if (!master_.has_backlog()) return false;
    aux->repl_stream_db = master_.selected_db() == -1 ? 0 : master_.selected_db();
  } else if (MasterLinkUp()) {
    aux->repl_stream_db = conn_->client().db_index;
  } else if (have_history_) {
    aux->repl_stream_db = cached_db_;
  } else {
    return false;
  }
  aux->repl_id = ids_.replid;
  aux->repl_offset = ids_.offset;
  return true;
}

void ReplicationService::OnBacklogSizeChange() {
  master_.ResizeBacklog(static_cast<size_t>(config_.v().repl_backlog_size));
}

bool ReplicationService::DatasetEmpty() const { return state_.KeyCount() == 0; }

void ReplicationService::SyncConfig() {
  auto& v = config_.v();
  v.master_host = master_host_;
  v.master_port = master_port_;
  v.replicaof = master_host_.empty() ? "" : master_host_ + " " + std::to_string(master_port_);
  store::Hooks().is_replica = IsReplica();
  master_.set_is_replica(IsReplica());
  log::SetRole(IsReplica() ? 'S' : 'M');
}

// --- REPLICAOF -------------------------------------------------------------------

Result<std::string> ReplicationService::ReplicaOf(cmd::ClientState& c, const std::string& host,
                                                  int port) {
  if (host.empty()) {
    if (IsReplica() && config_.v().backup_mode) {
      return Status::InvalidArgument(
          "REPLICAOF NO ONE is refused in backup mode: promote the node with BACKUP PROMOTE "
          "(cairn promote), which also keeps it a master across restarts");
    }
    if (IsReplica()) {
      UnsetMaster();
      log::Repl().info("MASTER MODE enabled (user request from '{}')", ClientDescription(c));
    }
    return std::string("OK");
  }
  if (IsReplica() && host == master_host_ && port == master_port_) {
    log::Repl().info(
        "REPLICAOF would result into synchronization with the master we are already connected "
        "with. No operation performed.");
    return std::string("OK Already connected to specified master");
  }
  SetMaster(host, port, true);
  log::Repl().info("REPLICAOF {}:{} enabled (user request from '{}')", host, port,
                   ClientDescription(c));
  return std::string("OK");
}

void ReplicationService::SetMaster(const std::string& host, int port, bool at_runtime) {
  const bool was_master = !IsReplica();
  DropConnection();
  master_host_ = host;
  master_port_ = port;
  if (was_master && at_runtime) {
    // Our own history may let the new master continue us (PSYNC2); Redis 7.0
    // offers it even when the master is bound to answer with a full sync.
    have_history_ = true;
    cached_db_ = master_.selected_db() == -1 ? 0 : master_.selected_db();
    LogCachedFromSelf();
  }
  link_ = Link::kConnect;
  link_down_since_ms_ = 0;
  SyncConfig();
  log::Repl().info("Connecting to MASTER {}:{}", host, port);
  Connect();
}

void ReplicationService::UnsetMaster() {
  DropConnection();
  master_host_.clear();
  master_port_ = 0;
  link_ = Link::kNone;
  // Shift the history: replicas of the old master may continue with us up to
  // the offset we reached.
  ids_.Shift(NewReplId());
  log::Repl().info(
      "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
      ids_.replid2, ids_.second_offset, ids_.replid);
  have_history_ = false;
  SyncConfig();
  // Sub-replicas must learn the new id; they reconnect with a partial resync.
  master_.DisconnectReplicas("the replication id changed");
  master_.CreateBacklog();
  master_.ResetSelectedDb();
}

void ReplicationService::DropConnection() {
  connect_generation_++;
  if (conn_) {
    if (conn_->state() == ReplState::kConnected) {
      have_history_ = true;
      cached_db_ = conn_->client().db_index;
    }
    auto& clients = state_.clients;
    auto it = clients.find(conn_->client().id);
    if (it != clients.end() && it->second == &conn_->client()) clients.erase(it);
    dispatcher_.ClientGone(conn_->client());
    conn_->Stop();
    conn_.reset();
  }
}

void ReplicationService::Connect() {
  link_ = Link::kConnecting;
  last_connect_ms_ = base::NowMs();
  uint64_t gen = ++connect_generation_;
  log::Repl().info("MASTER <-> REPLICA sync started");
  const int timeout_ms = config_.v().repl_timeout * 1000;
  connector_->Connect(
      master_host_, master_port_, timeout_ms,
      [this, gen](const boost::system::error_code& ec, std::unique_ptr<net::ByteStream> stream) {
        if (gen != connect_generation_) {
          if (stream) stream->Close();
          return;
        }
        if (ec || !stream) {
          log::Repl().warn("Error condition on socket for SYNC: {}", ec.message());
          link_ = Link::kConnect;
          return;
        }
        log::Repl().info("Non blocking connect for SYNC fired the event.");
        const auto& cfg = config_.v();
        MasterConnection::Settings s;
        s.host = master_host_;
        s.port = master_port_;
        s.masteruser = cfg.masteruser;
        s.masterauth = cfg.masterauth;
        s.listening_port = cfg.replica_announce_port ? cfg.replica_announce_port : state_.port;
        s.announce_ip = cfg.replica_announce_ip;
        s.dir = cfg.dir;
        s.dbfilename = cfg.dbfilename;
        s.diskless_load = cfg.repl_diskless_load;
        s.proto_max_bulk_len = cfg.proto_max_bulk_len;
        s.initial_db = cached_db_;
        conn_ = std::make_shared<MasterConnection>(*this, std::move(s), state_.next_client_id++);
        state_.clients[conn_->client().id] = &conn_->client();
        link_ = Link::kUp;
        conn_->Start(std::move(stream));
      });
}

void ReplicationService::LinkLost(bool was_connected, bool reconnect_now) {
  if (!conn_) return;
  if (was_connected) {
    link_down_since_ms_ = base::NowMs();
    have_history_ = true;
    cached_db_ = conn_->client().db_index;
  }
  // The connection object is still running the call that reported this; it
  // stays alive through its own handler's reference.
  auto conn = conn_;
  DropConnection();
  link_ = Link::kConnect;
  last_connect_ms_ = base::NowMs();
  if (reconnect_now) {
    const uint64_t gen = connect_generation_;
    boost::asio::post(io_, [this, gen] {
      if (link_ != Link::kConnect || gen != connect_generation_ || !IsReplica()) return;
      if (base::NowMs() < hold_until_ms_) return;  // the cron reconnects after the hold
      log::Repl().info("Reconnecting to MASTER {}:{}", master_host_, master_port_);
      Connect();
    });
  }
}

void ReplicationService::Cron() {
  const int64_t now = base::NowMs();
  if (IsReplica()) {
    if (link_ == Link::kConnect && now - last_connect_ms_ >= kConnectRetryMs &&
        now >= hold_until_ms_) {
      log::Repl().info("Connecting to MASTER {}:{}", master_host_, master_port_);
      Connect();
    }
    if (conn_) {
      conn_->CheckTimeout(now, config_.v().repl_timeout);
      if (conn_ && now - last_ack_ms_ >= 1000) {
        last_ack_ms_ = now;
        conn_->SendAck();
      }
    }
  }
  master_.Cron();
}

// --- ReplicaHost ---------------------------------------------------------------------

std::pair<std::string, int64_t> ReplicationService::PsyncArgs() {
  if (!have_history_) return {"?", -1};
  return {ids_.replid, ids_.offset + 1};
}

void ReplicationService::FullSyncStarted() {
  // Before the history is dropped: a guard snapshot's RDB then still names the
  // replication id and offset its data belongs to.
  if (guard_ && !DatasetEmpty()) guard_->BeforeReplace(state_.KeyCount());
  have_history_ = false;
  if (on_status)
    on_status("MASTER <-> REPLICA sync: receiving the dataset from " + master_host_ + ":" +
              std::to_string(master_port_));
}

void ReplicationService::WhileLoading() {
  const int64_t now = base::NowMs();
  if (!loading_from_master_ || !conn_ || now - last_loading_newline_ms_ < 1000) return;
  last_loading_newline_ms_ = now;
  conn_->SendKeepalive();
}

Status ReplicationService::LoadFromMaster(const std::string& path, std::string_view data,
                                          bool swap) {
  const uint64_t before = state_.KeyCount();
  // Sub-replicas follow a history that ends here: they must resync too.
  master_.DisconnectReplicas("the master sent a new dataset");
  master_.FreeBacklog();
  std::function<bool(const persist::RdbLoadInfo&)> accept;
  if (guard_ && guard_->MayRefuse(before)) {
    // Load beside the old data so that a refused dataset costs nothing.
    swap = true;
    accept = [this, before](const persist::RdbLoadInfo& in) {
      return guard_->Accept(before, in.keys_loaded);
    };
  }
  persist::RdbLoadInfo info;
  loading_from_master_ = true;
  Status s = loader_.LoadReplicationRdb(path, data, swap, &info, accept);
  loading_from_master_ = false;
  if (s.code() == StatusCode::kRefused) {
    refusals_++;
    const int delay = guard_->RetryDelaySeconds(refusals_);
    hold_until_ms_ = base::NowMs() + delay * 1000LL;
    log::Repl().warn("Next synchronization attempt in {} seconds", delay);
    return s;
  }
  if (!s.ok()) return s;
  refusals_ = 0;
  hold_until_ms_ = 0;
  const uint64_t after = state_.KeyCount();
  if (before > 0 && after == 0) {
    log::Repl().warn(
        "WARNING: the master sent an EMPTY dataset and this replica held {} keys, which are now "
        "gone. If the master restarted without persistence (no save points, no AOF), its data "
        "was lost and the replicas followed it. Check the master's save/appendonly settings.",
        before);
  }
  return Status::Ok();
}

void ReplicationService::FullSyncDone(const std::string& replid, int64_t offset, int) {
  ids_.Adopt(replid, offset);
  master_.CreateBacklog();
  have_history_ = false;
  if (guard_) guard_->Synced(true);
  if (on_status)
    on_status(
        "MASTER <-> REPLICA sync: Finished with success. Ready to accept connections in "
        "read-only mode.");
}

void ReplicationService::PartialSyncAccepted(const std::string& replid) {
  if (!replid.empty() && replid != ids_.replid) {
    ids_.Shift(replid);
    log::Repl().info("Master replication ID changed to {}", replid);
    master_.DisconnectReplicas("the master's replication id changed");
  }
  master_.CreateBacklog();
  if (guard_) guard_->Synced(false);
  if (on_status)
    on_status(
        "MASTER <-> REPLICA sync: partial resynchronization accepted. Ready to accept "
        "connections in read-only mode.");
}

void ReplicationService::Promote(bool dataset_replaced) {
  if (IsReplica()) UnsetMaster();  // shifts the history (replid2 = the old master's)
  refusals_ = 0;
  hold_until_ms_ = 0;
  if (!dataset_replaced) return;
  // Another dataset: no replica may continue an old history with it.
  ids_.StartNew();
  log::Repl().info("Dataset replaced: new replication ID {}, no secondary ID", ids_.replid);
  master_.DisconnectReplicas("the dataset was replaced");
  master_.FreeBacklog();
  master_.CreateBacklog();
  master_.ResetSelectedDb();
}

void ReplicationService::Execute(cmd::ClientState& master,
                                 const std::vector<std::string_view>& argv) {
  store::Hooks().applying_replication = true;
  dispatcher_.Execute(master, argv);
  store::Hooks().applying_replication = false;
}

void ReplicationService::Applied(std::string_view bytes) {
  state_.repl_stats.net_repl_input_bytes += bytes.size();
  master_.FeedRaw(bytes);
}

void ReplicationService::AccountTransfer(size_t n) { state_.repl_stats.net_repl_input_bytes += n; }

// --- commands --------------------------------------------------------------------------

bool ReplicationService::Sync(cmd::ClientState& c, const std::vector<std::string>& argv) {
  if (IsReplica() && !MasterLinkUp()) {
    c.reply.Error("-NOMASTERLINK Can't SYNC while not connected with my master");
    return false;
  }
  if (c.has(cmd::kReplica)) return false;
  ReplicaHello hello;
  hello.id = c.id;
  hello.name = c.name;
  hello.addr = c.addr;
  hello.laddr = c.laddr;
  hello.user = c.user;
  hello.ctime_ms = c.ctime_ms;
  hello.listening_port = c.repl_listening_port;
  hello.ip = c.repl_announced_ip;
  hello.capa_eof = c.repl_capa_eof;
  hello.capa_psync2 = c.repl_capa_psync2;
  hello.compressing_transport = c.secure_compressed;
  c.handoff = [this, hello, argv](std::unique_ptr<net::ByteStream> stream, std::string unread,
                                  std::string unsent) {
    master_.AcceptReplica(hello, argv, std::move(stream), std::move(unread), std::move(unsent));
  };
  return true;
}

void ReplicationService::Wait(cmd::ClientState& c, int64_t numreplicas, int64_t timeout_ms) {
  if (IsReplica()) {
    c.reply.Error(
        "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
        "replica is configured to be writable (which is not the default) writes to replicas are "
        "just local and are not propagated.");
    return;
  }
  master_.Wait(c, numreplicas, timeout_ms);
}

void ReplicationService::Role(cmd::ClientState& c) {
  auto& r = c.reply;
  if (!IsReplica()) {
    std::vector<const ReplicaLink*> links;
    for (const auto& l : master_.links()) {
      if (!l->closed()) links.push_back(l.get());
    }
    r.Array(3);
    r.Bulk("master");
    r.Int(ids_.offset);
    r.Array(links.size());
    for (const auto* l : links) {
      r.Array(3);
      r.Bulk(l->ip);
      r.Bulk(std::to_string(l->listening_port));
      r.Bulk(std::to_string(l->ack_offset));
    }
    return;
  }
  r.Array(5);
  r.Bulk("slave");
  r.Bulk(master_host_);
  r.Int(master_port_);
  const char* st = "connect";
  if (conn_) {
    switch (conn_->state()) {
      case ReplState::kConnecting:
        st = "connecting";
        break;
      case ReplState::kHandshake:
        st = "handshake";
        break;
      case ReplState::kTransfer:
        st = "sync";
        break;
      case ReplState::kConnected:
        st = "connected";
        break;
    }
  } else if (link_ == Link::kConnecting) {
    st = "connecting";
  }
  r.Bulk(st);
  r.Int(MasterLinkUp() ? ids_.offset : -1);
}

uint64_t ReplicationService::BacklogMemory() const {
  return master_.backlog() ? master_.backlog()->memory() : 0;
}

void ReplicationService::InfoFields(std::vector<std::pair<std::string, std::string>>* out) {
  const auto& cfg = config_.v();
  auto add = [out](const char* k, const auto& v) { cmd::AddInfoField(*out, k, v); };
  const int64_t now = base::NowMs();
  if (!IsReplica()) {
    add("role", "master");
  } else {
    add("role", "slave");
    add("master_host", master_host_);
    add("master_port", master_port_);
    add("master_link_status", MasterLinkUp() ? "up" : "down");
    add("master_last_io_seconds_ago", MasterLinkUp() ? (now - conn_->last_io_ms()) / 1000 : -1);
    const bool syncing = conn_ && conn_->state() == ReplState::kTransfer;
    add("master_sync_in_progress", syncing ? 1 : 0);
    add("slave_read_repl_offset", conn_ && MasterLinkUp() ? conn_->read_offset() : ids_.offset);
    add("slave_repl_offset", ids_.offset);
    if (syncing) {
      int64_t total = conn_->transfer_size();
      int64_t read = conn_->transfer_read();
      add("master_sync_total_bytes", total);
      add("master_sync_read_bytes", read);
      add("master_sync_left_bytes", total < 0 ? -1 : total - read);
      char perc[32];
      snprintf(perc, sizeof(perc), "%.2f",
               total <= 0 ? -0.0 : 100.0 * static_cast<double>(read) / static_cast<double>(total));
      add("master_sync_perc", std::string(perc));
      add("master_sync_last_io_seconds_ago", (now - conn_->last_io_ms()) / 1000);
    }
    if (!MasterLinkUp())
      add("master_link_down_since_seconds",
          link_down_since_ms_ ? (now - link_down_since_ms_) / 1000 : -1);
    // A backup node cannot be promoted by REPLICAOF NO ONE: priority 0 tells Sentinel
    // (and anything else that reads it) never to pick it.
    add("slave_priority", cfg.backup_mode ? 0 : cfg.replica_priority);
    add("slave_read_only", cfg.replica_read_only ? 1 : 0);
    add("replica_announced", cfg.replica_announced ? 1 : 0);
  }
  int n = 0;
  std::vector<std::pair<std::string, std::string>> slaves;
  for (const auto& l : master_.links()) {
    if (l->closed()) continue;
    const char* st = "online";
    if (l->state == LinkState::kWaitBgsaveStart || l->state == LinkState::kWaitBgsaveEnd)
      st = "wait_bgsave";
    else if (l->state == LinkState::kSendBulk)
      st = "send_bulk";
    std::string v = "ip=" + l->ip + ",port=" + std::to_string(l->listening_port) + ",state=" + st +
                    ",offset=" + std::to_string(l->ack_offset) +
                    ",lag=" + std::to_string((now - l->ack_time_ms) / 1000);
    slaves.emplace_back("slave" + std::to_string(n++), v);
  }
  add("connected_slaves", n);
  for (auto& s : slaves) out->push_back(std::move(s));
  add("master_failover_state", "no-failover");
  add("master_replid", ids_.replid);
  add("master_replid2", ids_.replid2);
  add("master_repl_offset", ids_.offset);
  add("second_repl_offset", ids_.second_offset);
  const ReplBacklog* b = master_.backlog();
  add("repl_backlog_active", b ? 1 : 0);
  add("repl_backlog_size", cfg.repl_backlog_size);
  add("repl_backlog_first_byte_offset", b ? b->first_offset() : 0);
  add("repl_backlog_histlen", b ? static_cast<int64_t>(b->histlen()) : 0);
}

}  // namespace cairn::repl
