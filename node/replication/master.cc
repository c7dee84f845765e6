// Master side of replication (see master.h).
#include "node/replication/master.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/base/number.h"
#include "node/persistence/aof_format.h"
#include "node/protocol/resp_parser.h"

namespace cairn::repl {

namespace asio = boost::asio;

namespace {

constexpr size_t kReadChunk = 16 * 1024;
// RDB bytes per write to a replica: large enough that a transfer is a few
// hundred writes per 100 MB; the diskless pipe is widened to match.
constexpr size_t kBulkChunk = 256 * 1024;
constexpr std::string_view kPing = "*1\r\n$4\r\nping\r\n";
constexpr std::string_view kGetAck = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";

int64_t NowS() { return base::RealWallMs() / 1000; }

}  // namespace

std::string NewReplId() {
  static const char* kHex = "0123456789abcdef";
  std::string s(40, '0');
  for (auto& c : s) c = kHex[randombytes_uniform(16)];
  return s;
}

// --- ReplicaLink ---------------------------------------------------------------

ReplicaLink::ReplicaLink(ReplicationMaster& master, std::unique_ptr<net::ByteStream> stream,
                         const ReplicaHello& from)
    : master_(master), stream_(std::move(stream)) {
  client.id = from.id;
  client.name = from.name;
  client.addr = from.addr.empty() ? stream_->PeerAddress() : from.addr;
  client.laddr = from.laddr.empty() ? stream_->LocalAddress() : from.laddr;
  client.authenticated = true;
  client.user = from.user;
  client.ctime_ms = from.ctime_ms;
  client.last_interaction_ms = base::NowMs();
  client.last_cmd = "psync";
  client.flags = cmd::kReplica;
  client.io = this;
  created_ms = base::NowMs();
  ack_time_ms = created_ms;
  capa_eof = from.capa_eof;
  compressing_transport = from.compressing_transport;
  capa_psync2 = from.capa_psync2;
  listening_port = from.listening_port;
  ip = from.ip;
  if (ip.empty()) {
    ip = client.addr.substr(0, client.addr.rfind(':'));
    if (ip.size() > 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  }
}

ReplicaLink::~ReplicaLink() {
  if (bulk_fd >= 0) ::close(bulk_fd);
}

std::string ReplicaLink::Name() const {
  return ip + ":" + std::to_string(listening_port ? listening_port : 0);
}

void ReplicaLink::Start(std::string unread) {
  auto& s = master_.state();
  if (client.id == 0) client.id = s.next_client_id++;
  s.clients[client.id] = &client;
  registered_ = true;
  rbuf_ = std::move(unread);
  rlen_ = rbuf_.size();
  ProcessInput();
  StartRead();
}

void ReplicaLink::StartRead() {
  if (closed_) return;
  if (rbuf_.size() < rlen_ + kReadChunk) rbuf_.resize(rlen_ + kReadChunk);
  stream_->AsyncReadSome(rbuf_.data() + rlen_, kReadChunk,
                         [self = shared_from_this()](const boost::system::error_code& ec,
                                                     size_t n) { self->OnRead(ec, n); });
}

void ReplicaLink::OnRead(const boost::system::error_code& ec, size_t n) {
  if (closed_) return;
  if (ec) {
    Drop(ec == asio::error::eof ? "connection closed by the replica" : ec.message());
    return;
  }
  rlen_ += n;
  master_.state().stats.net_input_bytes += n;
  ProcessInput();
  StartRead();
}

void ReplicaLink::ProcessInput() {
  protocol::ParseLimits limits;
  std::vector<std::string_view> argv;
  std::string scratch;
  size_t pos = 0;
  while (!closed_ && pos < rlen_) {
    auto r = protocol::ParseCommand(rbuf_.data() + pos, rlen_ - pos, limits, &argv, &scratch);
    if (r.status == protocol::ParseStatus::kNeedMore) break;
    pos += r.consumed;
    if (r.status == protocol::ParseStatus::kEmpty) {
      // A replica loading a large RDB sends bare newlines so that its master does not
      // time it out before its first ACK (Redis counts them the same way).
      ack_time_ms = base::NowMs();
      continue;
    }
    if (r.status == protocol::ParseStatus::kError) {
      Drop("protocol error from replica: " + r.error);
      return;
    }
    client.last_interaction_ms = base::NowMs();
    // A replica's only traffic after PSYNC: REPLCONF ACK <offset> [FACK <offset>].
    if (argv.size() >= 3 && base::EqualsNoCase(argv[0], "replconf") &&
        base::EqualsNoCase(argv[1], "ack")) {
      int64_t off = 0;
      if (base::ParseInt64(argv[2], &off) && off > ack_offset) ack_offset = off;
      ack_time_ms = base::NowMs();
      client.last_cmd = "replconf";
      master_.LinkAcked(*this);
    }
  }
  if (pos > 0) {
    rbuf_.erase(0, pos);
    rlen_ -= pos;
  }
}

bool ReplicaLink::OverOutputLimit() {
  const config::OutputBufferLimit& lim = master_.config().v().obuf_replica;
  size_t size = held_.size() + out_.size() + writing_.size() - write_pos_;
  bool hard = lim.hard > 0 && size >= static_cast<size_t>(lim.hard);
  bool soft = false;
  if (lim.soft > 0 && size >= static_cast<size_t>(lim.soft)) {
    int64_t now = base::NowMs();
    if (obuf_soft_since_ms_ == 0)
      obuf_soft_since_ms_ = now;
    else if (now - obuf_soft_since_ms_ >= lim.soft_seconds * 1000)
      soft = true;
  } else {
    obuf_soft_since_ms_ = 0;
  }
  return hard || soft;
}

void ReplicaLink::Send(std::string_view bytes) {
  if (closed_) return;
  out_.append(bytes);
  if (!write_busy_) StartWrite();
}

void ReplicaLink::Feed(std::string_view bytes) {
  if (closed_) return;
  if (state == LinkState::kOnline && !start_stream_on_ack)
    out_.append(bytes);
  else if (state != LinkState::kWaitBgsaveStart)
    held_.append(bytes);
  else
    return;
  if (OverOutputLimit()) {
    log::Repl().warn(
        "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer "
        "limits.",
        client.id, client.addr);
    master_.state().stats.client_outbuf_limit_disconnections++;
    Drop("output buffer limit");
  }
  // Writes start from the master's batched flush (ScheduleFlush).
}

void ReplicaLink::GoOnline() {
  state = LinkState::kOnline;
  start_stream_on_ack = false;
  ack_time_ms = base::NowMs();
  if (!held_.empty()) {
    out_.append(held_);
    std::string().swap(held_);
  }
  log::Repl().info("Synchronization with replica {} succeeded", Name());
  if (!write_busy_) StartWrite();
}

void ReplicaLink::WhenDrained(std::function<void()> fn) {
  if (closed_ || (!write_busy_ && out_.empty())) {
    fn();
    return;
  }
  drained_.push_back(std::move(fn));
}

void ReplicaLink::StartWrite() {
  if (closed_ || write_busy_) return;
  if (out_.empty()) {
    auto fns = std::move(drained_);
    drained_.clear();
    for (auto& f : fns) f();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  write_pos_ = 0;
  write_busy_ = true;
  stream_->AsyncWrite(writing_.data(), writing_.size(),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        self->OnWritten(ec);
                      });
}

void ReplicaLink::OnWritten(const boost::system::error_code& ec) {
  write_busy_ = false;
  if (closed_) return;
  if (ec) {
    Drop(ec.message());
    return;
  }
  master_.state().stats.net_output_bytes += writing_.size();
  master_.state().repl_stats.net_repl_output_bytes += writing_.size();
  if (writing_.capacity() > 1024 * 1024)
    std::string().swap(writing_);
  else
    writing_.clear();
  write_pos_ = 0;
  StartWrite();
}

void ReplicaLink::Drop(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  log::Repl().info("Connection with replica {} lost ({}).", Name(), why);
  stream_->Close();
  if (bulk_fd >= 0) {
    ::close(bulk_fd);
    bulk_fd = -1;
  }
  if (registered_) {
    auto& s = master_.state();
    auto it = s.clients.find(client.id);
    if (it != s.clients.end() && it->second == &client) s.clients.erase(it);
    registered_ = false;
  }
  client.io = nullptr;
  auto fns = std::move(drained_);
  drained_.clear();
  for (auto& f : fns) f();
  master_.LinkClosed(*this);
}

// --- ReplicationMaster -----------------------------------------------------------

ReplicationMaster::ReplicationMaster(cmd::ServerState& state, config::Config& config,
                                     asio::io_context& io, ReplIds& ids, SnapshotSource& snapshots)
    : state_(state), config_(config), io_(io), ids_(ids), snapshots_(snapshots) {
  no_replicas_since_s_ = NowS();
}

ReplicationMaster::~ReplicationMaster() {
  for (auto& l : links_) l->Drop("shutting down");
  auto& sinks = state_.propagation_sinks;
  sinks.erase(std::remove(sinks.begin(), sinks.end(), this), sinks.end());
}

void ReplicationMaster::UpdateSinkRegistration() {
  // Only a node with a backlog (some replica ever attached) pays for building
  // the propagated form of its writes, as Redis skips feeding without one.
  bool want = backlog_ != nullptr;
  if (want == registered_sink_) return;
  auto& sinks = state_.propagation_sinks;
  if (want)
    sinks.push_back(this);
  else
    sinks.erase(std::remove(sinks.begin(), sinks.end(), this), sinks.end());
  registered_sink_ = want;
}

void ReplicationMaster::CreateBacklog() {
  if (backlog_) return;
  backlog_ = std::make_unique<ReplBacklog>(static_cast<size_t>(config_.v().repl_backlog_size),
                                           ids_.offset);
  UpdateSinkRegistration();
}

void ReplicationMaster::FreeBacklog() {
  backlog_.reset();
  UpdateSinkRegistration();
}

void ReplicationMaster::ResizeBacklog(size_t size) {
  if (backlog_) backlog_->Resize(size);
}

void ReplicationMaster::Feed(int db, const std::vector<std::string>& argv) {
  if (is_replica_ || !backlog_) return;
  scratch_.clear();
  if (db != selected_db_) {
    persist::AppendAofCommand(&scratch_, {"SELECT", std::to_string(db)});
    selected_db_ = db;
  }
  persist::AppendAofCommand(&scratch_, argv);
  FeedRaw(scratch_);
}

void ReplicationMaster::FeedRaw(std::string_view bytes) {
  if (!backlog_ && links_.empty()) return;
  ids_.offset += static_cast<int64_t>(bytes.size());
  if (backlog_) backlog_->Append(bytes);
  for (auto& l : links_) {
    if (!l->closed()) l->Feed(bytes);
  }
  ScheduleFlush();
}

void ReplicationMaster::ScheduleFlush() {
  // Inside a poller batch the server calls FlushLinks before the batch's
  // replies leave (as Redis writes replicas in beforeSleep); a posted task
  // covers writes made anywhere else (cron, timers).
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [this] { FlushLinks(); });
}

void ReplicationMaster::FlushLinks() {
  flush_posted_ = false;
  for (auto& l : links_) {
    if (!l->closed()) l->Send({});  // starts the write of what Feed queued
  }
}

void ReplicationMaster::AcceptReplica(const ReplicaHello& c, std::vector<std::string> argv,
                                      std::unique_ptr<net::ByteStream> stream, std::string unread,
                                      std::string unsent) {
  auto l = std::make_shared<ReplicaLink>(*this, std::move(stream), c);
  links_.push_back(l);
  if (!unsent.empty()) l->Send(unsent);
  l->Start(std::move(unread));
  if (l->closed()) return;
  log::Repl().info("Replica {} asks for synchronization", l->Name());
  const bool psync = base::EqualsNoCase(argv[0], "psync");
  int64_t off = 0;  // PSYNC's offset: the replica's history ends at off - 1
  if (psync) {
    if (!base::ParseInt64(argv[2], &off)) {
      l->Send("-ERR value is not an integer or out of range\r\n");
      l->Drop("bad PSYNC offset");
      return;
    }
    if (TryPartialResync(*l, argv[1], off)) {
      state_.repl_stats.sync_partial_ok++;
      return;
    }
    if (argv[1] != "?") state_.repl_stats.sync_partial_err++;
  } else {
    l->pre_psync = true;
  }
  state_.repl_stats.sync_full++;
  l->state = LinkState::kWaitBgsaveStart;
  if (psync && argv[1] != "?" && off > 1) {
    // The tutorials' disaster: a master restarted without persistence comes
    // back empty and its replicas, which still hold the data, copy the void.
    // (Offset 1 is an empty history: a fresh replica offering its own id.)
    const auto& c = config_.v();
    if (state_.KeyCount() == 0 && c.save_points.empty() && !c.appendonly)
      log::Repl().warn(
          "WARNING: replica {} has replication history ({}) but this master has an EMPTY "
          "dataset and no persistence (no save points, appendonly no): the full sync that "
          "follows will empty the replica. If this master restarted without persistence, its "
          "data now lives only on its replicas.",
          l->Name(), argv[1]);
  }
  if (backlog_ == nullptr) {
    // A backlog created from scratch starts a new history.
    ids_.StartNew();
    CreateBacklog();
    log::Repl().info("Replication backlog created, my new replication IDs are '{}' and '{}'",
                     ids_.replid, ids_.replid2);
  }
  const auto& cfg = config_.v();
  if (snapshots_.DiskSaveInProgress() && disk_child_for_replicas_) {
    // Attach to the running disk BGSAVE: copy what another waiting replica
    // has buffered since the fork.
    for (auto& other : links_) {
      if (other.get() != l.get() && !other->closed() && other->state == LinkState::kWaitBgsaveEnd) {
        l->held_ = other->held_;
        SetupFullResync(*l, other->psync_offset);
        log::Repl().info("Waiting for end of BGSAVE for SYNC");
        return;
      }
    }
    log::Repl().info(
        "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE "
        "for SYNC");
  } else if (TransferBusy()) {
    log::Repl().info("BGSAVE for replication delayed: another child process is active");
  } else if (cfg.repl_diskless_sync && l->capa_eof && cfg.repl_diskless_sync_delay > 0) {
    log::Repl().info("Delay next BGSAVE for diskless SYNC");
  } else {
    StartBgsaveForReplication();
  }
}

bool ReplicationMaster::TryPartialResync(ReplicaLink& l, const std::string& replid,
                                         int64_t offset) {
  if (replid != ids_.replid && (replid != ids_.replid2 || offset > ids_.second_offset)) {
    if (replid == "?") {
      log::Repl().info("Full resync requested by replica {}", l.Name());
    } else if (replid != ids_.replid && replid != ids_.replid2) {
      log::Repl().info(
          "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for "
          "'{}', my replication IDs are '{}' and '{}')",
          replid, ids_.replid, ids_.replid2);
    } else {
      log::Repl().info(
          "Partial resynchronization not accepted: Requested offset for second ID was {}, but "
          "I can reply up to {}",
          offset, ids_.second_offset);
    }
    return false;
  }
  if (!backlog_ || offset < backlog_->first_offset() || offset > backlog_->end_offset() + 1) {
    log::Repl().info(
        "Unable to partial resync with replica {} for lack of backlog (Replica request was: "
        "{}).",
        l.Name(), offset);
    if (offset > ids_.offset)
      log::Repl().warn(
          "Warning: replica {} tried to PSYNC with an offset that is greater than the master "
          "replication offset.",
          l.Name());
    return false;
  }
  l.state = LinkState::kOnline;
  l.ack_time_ms = base::NowMs();
  std::string data = l.capa_psync2 ? "+CONTINUE " + ids_.replid + "\r\n" : "+CONTINUE\r\n";
  size_t head = data.size();
  backlog_->CopyFrom(offset, &data);
  l.Send(data);
  log::Repl().info(
      "Partial resynchronization request from {} accepted. Sending {} bytes of backlog "
      "starting from offset {}.",
      l.Name(), data.size() - head, offset);
  RefreshReplicas();
  return true;
}

void ReplicationMaster::SetupFullResync(ReplicaLink& l, int64_t offset) {
  l.psync_offset = offset;
  l.state = LinkState::kWaitBgsaveEnd;
  // The stream after the RDB starts with a SELECT.
  selected_db_ = -1;
  if (!l.pre_psync) l.Send("+FULLRESYNC " + ids_.replid + " " + std::to_string(offset) + "\r\n");
}

void ReplicationMaster::StartBgsaveForReplication() {
  const auto& cfg = config_.v();
  bool any = false, all_eof = true, all_compressing = true;
  for (auto& l : links_) {
    if (l->closed() || l->state != LinkState::kWaitBgsaveStart) continue;
    any = true;
    all_eof = all_eof && l->capa_eof;
    all_compressing = all_compressing && l->compressing_transport;
  }
  if (!any) return;
  const bool diskless = cfg.repl_diskless_sync && all_eof;
  // Everything fed from here on is what these replicas need after the RDB.
  int64_t offset = ids_.offset;
  std::vector<std::shared_ptr<ReplicaLink>> targets;
  for (auto& l : links_) {
    if (l->closed() || l->state != LinkState::kWaitBgsaveStart) continue;
    SetupFullResync(*l, offset);
    targets.push_back(l);
  }
  Status s;
  if (diskless) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      s = ErrnoStatus("pipe", errno);
    } else {
      fcntl(fds[0], F_SETPIPE_SZ, static_cast<int>(kBulkChunk));  // best effort
      std::string mark(40, '0');
      static const char* kChars = "0123456789abcdef";
      for (auto& ch : mark) ch = kChars[randombytes_uniform(16)];
      // Through compressing channels only: strings go without LZF, so that zstd
      // sees the real data (the disk form keeps rdbcompression: it is dump.rdb).
      bool lzf = cfg.rdbcompression && !all_compressing;
      if (cfg.rdbcompression && !lzf) {
        log::Repl().info("Replicas are on compressing secure channels: RDB strings go without LZF");
      }
      s = snapshots_.StartReplicationSave(fds[1], fds[0], mark, lzf);
      if (!s.ok()) {
        ::close(fds[0]);
      } else {
        pipe_ = std::make_unique<PipeTransfer>();
        pipe_->pipe = std::make_unique<asio::posix::stream_descriptor>(io_, fds[0]);
        for (auto& l : targets) pipe_->targets.push_back(l);
        RelayPipe();
      }
    }
  } else {
    log::Repl().info("Starting BGSAVE for SYNC with target: disk");
    s = snapshots_.StartReplicationSave(-1, -1, {}, cfg.rdbcompression);
    disk_child_for_replicas_ = s.ok();
  }
  if (!s.ok()) {
    log::Repl().warn("BGSAVE for replication failed: {}", s.message());
    for (auto& l : targets) {
      l->Send("-ERR BGSAVE failed, replication can't continue\r\n");
      l->Drop("BGSAVE for replication failed");
    }
  }
}

void ReplicationMaster::RelayPipe() {
  if (!pipe_) return;
  pipe_->chunk.resize(kBulkChunk);
  pipe_->pipe->async_read_some(
      asio::buffer(pipe_->chunk),
      [this, p = pipe_.get()](const boost::system::error_code& ec, size_t n) {
        if (pipe_.get() != p) return;  // transfer already finished
        if (ec) {
          // EOF: the child wrote everything (or died; its exit tells).
          p->eof = true;
          for (auto& w : p->targets) {
            if (auto l = w.lock(); l && !l->closed()) {
              l->start_stream_on_ack = true;
              l->state = LinkState::kOnline;
              // From here repl-timeout runs: a replica that never ACKs is dropped.
              l->ack_time_ms = base::NowMs();
            }
          }
          log::Repl().info("Diskless rdb transfer, done reading from pipe, {} replicas still up.",
                           std::count_if(p->targets.begin(), p->targets.end(),
                                         [](auto& w) { return !w.expired(); }));
          if (p->child_done) {
            pipe_.reset();
            StartWaitingReplicas();
          }
          return;
        }
        p->chunk.resize(n);
        size_t live = 0;
        for (auto& w : p->targets) {
          if (auto l = w.lock(); l && !l->closed()) live++;
        }
        if (live == 0) {
          log::Repl().warn("Diskless rdb transfer, last replica dropped, killing fork child.");
          pipe_.reset();
          snapshots_.AbortReplicationSave();
          return;
        }
        p->waiting = live;
        for (auto& w : p->targets) {
          auto l = w.lock();
          if (!l || l->closed()) continue;
          l->Send(p->chunk);
          l->WhenDrained([this, p] {
            if (pipe_.get() != p) return;
            if (--p->waiting == 0) RelayPipe();
          });
        }
      });
}

void ReplicationMaster::OnRdbChildDone(bool ok, bool to_pipe) {
  if (to_pipe) {
    // The child may end before the parent relayed what it left in the pipe:
    // the relay then finishes on its own and drops the transfer at EOF.
    if (pipe_) pipe_->child_done = true;
    if (!ok) {
      log::Repl().warn("Diskless replication child failed: closing the replicas it was serving");
      if (pipe_) {
        for (auto& w : pipe_->targets) {
          if (auto l = w.lock()) {
            if (l->start_stream_on_ack || l->state != LinkState::kOnline)
              l->Drop("diskless transfer failed");
          }
        }
      }
      pipe_.reset();
    } else if (pipe_ && pipe_->eof) {
      pipe_.reset();
    }
    if (pipe_) return;  // still relaying; StartWaitingReplicas runs at its end
  } else {
    disk_child_for_replicas_ = false;
    const std::string path = snapshots_.RdbPath();
    for (auto& l : links_) {
      if (l->closed() || l->state != LinkState::kWaitBgsaveEnd) continue;
      if (!ok) {
        l->Drop("SYNC failed. BGSAVE child returned an error");
        continue;
      }
      l->bulk_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat st;
      if (l->bulk_fd < 0 || fstat(l->bulk_fd, &st) != 0) {
        log::Repl().warn("SYNC failed. Can't open/stat DB after BGSAVE: {}", strerror(errno));
        l->Drop("can't open the RDB");
        continue;
      }
      l->bulk_size = st.st_size;
      l->bulk_off = 0;
      l->state = LinkState::kSendBulk;
      l->Send("$" + std::to_string(l->bulk_size) + "\r\n");
      SendNextBulkChunk(l);
    }
  }
  StartWaitingReplicas();
  RemoveClosedLinks();
}

void ReplicationMaster::StartWaitingReplicas() {
  // Replicas that arrived while the child ran get their own BGSAVE now.
  if (!TransferBusy()) {
    const auto& cfg = config_.v();
    bool waiting = false, delay = false;
    for (auto& l : links_) {
      if (!l->closed() && l->state == LinkState::kWaitBgsaveStart) {
        waiting = true;
        delay = delay || (cfg.repl_diskless_sync && l->capa_eof && cfg.repl_diskless_sync_delay);
      }
    }
    if (waiting && !delay) StartBgsaveForReplication();
  }
}

void ReplicationMaster::SendNextBulkChunk(const std::shared_ptr<ReplicaLink>& l) {
  if (l->closed()) return;
  if (l->bulk_off >= l->bulk_size) {
    ::close(l->bulk_fd);
    l->bulk_fd = -1;
    l->GoOnline();
    RefreshReplicas();
    return;
  }
  std::string buf(static_cast<size_t>(std::min<int64_t>(kBulkChunk, l->bulk_size - l->bulk_off)),
                  '\0');
  ssize_t n = pread(l->bulk_fd, buf.data(), buf.size(), l->bulk_off);
  if (n <= 0) {
    log::Repl().warn("Read error sending DB to replica: {}", n < 0 ? strerror(errno) : "EOF");
    l->Drop("read error sending the RDB");
    return;
  }
  buf.resize(static_cast<size_t>(n));
  l->bulk_off += n;
  l->Send(buf);
  std::weak_ptr<ReplicaLink> w = l;
  l->WhenDrained([this, w] {
    if (auto p = w.lock()) SendNextBulkChunk(p);
  });
}

void ReplicationMaster::LinkAcked(ReplicaLink& l) {
  if (l.start_stream_on_ack) {
    l.GoOnline();
    RefreshReplicas();
  }
  if (!waiters_.empty()) CheckWaiters(base::NowMs());
}

void ReplicationMaster::LinkClosed(ReplicaLink& l) {
  asio::post(io_, [this] { RemoveClosedLinks(); });
}

void ReplicationMaster::RemoveClosedLinks() {
  size_t before = links_.size();
  links_.erase(std::remove_if(links_.begin(), links_.end(), [](auto& l) { return l->closed(); }),
               links_.end());
  if (before != links_.size() && links_.empty()) no_replicas_since_s_ = NowS();
}

void ReplicationMaster::DisconnectReplicas(const std::string& why) {
  auto links = links_;
  for (auto& l : links) l->Drop(why);
  RemoveClosedLinks();
}

void ReplicationMaster::Cron() {
  int64_t now = base::NowMs();
  if (!waiters_.empty()) CheckWaiters(now);
  if (getack_pending_) {
    getack_pending_ = false;
    if (!links_.empty() && !is_replica_) FeedRaw(kGetAck);
  }
  if (now - last_second_ms_ >= 1000) {
    last_second_ms_ = now;
    cron_seconds_++;
    SecondCron();
  }
}

void ReplicationMaster::SecondCron() {
  const auto& cfg = config_.v();
  const int64_t now = base::NowMs();
  // Keepalive ping into the stream (it counts in the offset, as in Redis).
  if (!is_replica_ && !links_.empty() && cfg.repl_ping_replica_period > 0 &&
      cron_seconds_ % cfg.repl_ping_replica_period == 0) {
    FeedRaw(kPing);
  }
  for (auto& l : links_) {
    if (l->closed()) continue;
    // A newline keeps the replica's read timeout from firing while it waits.
    if (l->state == LinkState::kWaitBgsaveStart ||
        (l->state == LinkState::kWaitBgsaveEnd && !pipe_)) {
      l->Send("\n");
    }
    if (l->state == LinkState::kOnline && !l->pre_psync &&
        now - l->ack_time_ms > static_cast<int64_t>(cfg.repl_timeout) * 1000) {
      log::Repl().warn("Disconnecting timedout replica (streaming sync): {}", l->Name());
      l->Drop("timeout");
    }
  }
  RefreshReplicas();
  // Diskless sync waits repl-diskless-sync-delay for more replicas.
  if (!TransferBusy()) {
    int64_t oldest = 0;
    int waiting = 0;
    for (auto& l : links_) {
      if (l->closed() || l->state != LinkState::kWaitBgsaveStart) continue;
      waiting++;
      if (oldest == 0 || l->created_ms < oldest) oldest = l->created_ms;
    }
    if (waiting > 0) {
      bool max_reached =
          cfg.repl_diskless_sync_max_replicas > 0 && waiting >= cfg.repl_diskless_sync_max_replicas;
      if (!cfg.repl_diskless_sync || max_reached ||
          now - oldest >= static_cast<int64_t>(cfg.repl_diskless_sync_delay) * 1000)
        StartBgsaveForReplication();
    }
  }
  RemoveClosedLinks();
  // A master without replicas frees its backlog after repl-backlog-ttl.
  if (!is_replica_ && backlog_ && links_.empty() && cfg.repl_backlog_ttl > 0 &&
      NowS() - no_replicas_since_s_ > cfg.repl_backlog_ttl) {
    ids_.StartNew();
    FreeBacklog();
    log::Repl().info("Replication backlog freed after {} seconds without connected replicas.",
                     cfg.repl_backlog_ttl);
  }
}

void ReplicationMaster::RefreshReplicas() {
  // Replicas online that acknowledged within min-replicas-max-lag.
  const int64_t now = base::NowMs();
  const int64_t max_lag_ms = static_cast<int64_t>(config_.v().min_replicas_max_lag) * 1000;
  int good = 0;
  for (auto& l : links_) {
    if (!l->closed() && l->state == LinkState::kOnline && !l->start_stream_on_ack &&
        now - l->ack_time_ms <= max_lag_ms)
      good++;
  }
  good_replicas_ = good;
}

void ReplicationMaster::Wait(cmd::ClientState& c, int64_t numreplicas, int64_t timeout_ms) {
  const int64_t target = c.repl_write_offset;
  int64_t acked = 0;
  for (auto& l : links_) {
    if (!l->closed() && l->state == LinkState::kOnline && l->ack_offset >= target) acked++;
  }
  if (acked >= numreplicas || c.has(cmd::kInMulti)) {
    c.reply.Int(acked);
    return;
  }
  c.flags |= cmd::kBlocked;
  state_.blocked_clients++;
  int64_t deadline = timeout_ms > 0 ? base::NowMs() + timeout_ms : 0;
  waiters_.push_back({c.id, target, numreplicas, deadline});
  getack_pending_ = true;
  // Ask right after this batch rather than at the next cron tick.
  asio::post(io_, [this] {
    if (getack_pending_) {
      getack_pending_ = false;
      if (!links_.empty() && !is_replica_) FeedRaw(kGetAck);
    }
  });
}

void ReplicationMaster::CheckWaiters(int64_t now_ms) {
  std::vector<Waiter> keep;
  for (const auto& w : waiters_) {
    auto it = state_.clients.find(w.client_id);
    if (it == state_.clients.end() || !it->second->has(cmd::kBlocked)) continue;  // gone
    cmd::ClientState& c = *it->second;
    int64_t acked = 0;
    for (auto& l : links_) {
      if (!l->closed() && l->ack_offset >= w.offset) acked++;
    }
    if (acked < w.numreplicas && (w.deadline_ms == 0 || now_ms < w.deadline_ms)) {
      keep.push_back(w);
      continue;
    }
    c.flags &= ~cmd::kBlocked;
    state_.blocked_clients--;
    c.reply.Int(acked);
    if (c.io) c.io->RequestFlush();
  }
  waiters_.swap(keep);
}

}  // namespace cairn::repl
