// The master side of replication: replicas' links, the backlog, full and
// partial resynchronization, the command stream, ACKs and WAIT — Redis 7.0's
// PSYNC2 as its replicas expect it, byte for byte.
//
// DESIGN
// - Every write reaches the stream through Feed (a PropagationSink: SELECT
//   when the db changes, then the command as propagate.h shaped it) or FeedRaw
//   (a replica proxying its master's bytes, ping, GETACK). Bytes go to the
//   backlog and to each link; master_repl_offset counts them all.
// - A link owns a net::ByteStream and never looks through it. Its output is
//   one queue written by one AsyncWrite at a time; the next write starts when
//   the previous completes, so a slow transport slows the queue's drain and
//   the replica output-buffer limits apply as they do to a plain socket.
// - Full sync: a forked child writes the RDB to dir/dbfilename (disk) or to a
//   pipe the parent relays to the links ("$EOF:<mark>" form, diskless); stream
//   bytes produced meanwhile wait in the link's `held_` buffer and follow the
//   RDB (disk) or the replica's first ACK (diskless), as Redis does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "node/commands/client_state.h"
#include "node/commands/propagate.h"
#include "node/commands/server_state.h"
#include "node/config/config.h"
#include "node/net/asio.h"
#include "node/net/byte_stream.h"
#include "node/replication/backlog.h"

namespace cairn::repl {

// New 40-hex-character replication id.
std::string NewReplId();

// The replication history this node carries (Redis's replid, replid2,
// master_repl_offset, second_replid_offset) and its transitions.
struct ReplIds {
  std::string replid = NewReplId();
  std::string replid2 = std::string(40, '0');
  int64_t offset = 0;
  int64_t second_offset = -1;

  // A history from scratch (Redis's changeReplicationId + clearReplicationId2).
  void StartNew() { Adopt(NewReplId(), offset); }
  // The master's history after a full sync.
  void Adopt(std::string id, int64_t at) {
    replid = std::move(id);
    offset = at;
    replid2 = std::string(40, '0');
    second_offset = -1;
  }
  // The current history continues under `id`; the old id stays valid up to
  // the current offset (Redis's shiftReplicationId).
  void Shift(std::string id) {
    replid2 = std::move(replid);
    second_offset = offset + 1;
    replid = std::move(id);
  }
};

// What the master needs from persistence (PersistenceService implements it).
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual bool ChildActive() const = 0;
  virtual bool DiskSaveInProgress() const = 0;
  // pipe_fd < 0: a BGSAVE to the RDB file. Else the child writes to pipe_fd
  // and closes its copy of read_fd (the parent's end).
  // `lzf`: compress strings with LZF (rdbcompression); false when every target's
  // transport compresses anyway (LZF output defeats zstd and costs CPU twice).
  virtual Status StartReplicationSave(int pipe_fd, int read_fd, const std::string& eof_mark,
                                      bool lzf) = 0;
  // Ends a diskless transfer's child (its last replica is gone).
  virtual void AbortReplicationSave() = 0;
  virtual std::string RdbPath() const = 0;
};

class ReplicationMaster;

// What a client told about itself before its PSYNC (REPLCONF, CLIENT SETNAME).
struct ReplicaHello {
  uint64_t id = 0;
  std::string name, addr, laddr, user;
  int64_t ctime_ms = 0;
  int listening_port = 0;
  std::string ip;  // REPLCONF ip-address
  bool capa_eof = false;
  bool capa_psync2 = false;
  bool compressing_transport = false;  // came through a secure channel with compression
};

enum class LinkState { kWaitBgsaveStart, kWaitBgsaveEnd, kSendBulk, kOnline };

class ReplicaLink : public cmd::ClientIo, public std::enable_shared_from_this<ReplicaLink> {
 public:
  ReplicaLink(ReplicationMaster& master, std::unique_ptr<net::ByteStream> stream,
              const ReplicaHello& from);
  ~ReplicaLink() override;

  // Registers the link's client and starts reading ACKs (`unread`: bytes the
  // connection read past PSYNC).
  void Start(std::string unread);
  // Queues bytes for the replica now (replies, RDB, stream when online).
  void Send(std::string_view bytes);
  // Stream bytes: sent when online, kept in held_ before.
  void Feed(std::string_view bytes);
  // Online: the held stream follows.
  void GoOnline();
  void Drop(const std::string& why);
  // Runs `fn` once when everything queued so far has been written (or the
  // link closed).
  void WhenDrained(std::function<void()> fn);
  bool OverOutputLimit();

  // cmd::ClientIo
  void RequestFlush() override {}
  void Close(bool after_reply) override { Drop("closed by CLIENT KILL"); }
  size_t PendingOutput() const override { return out_.size() + writing_.size() - write_pos_; }
  size_t QueryBufferLength() const override { return 0; }
  size_t QueryBufferFree() const override { return 0; }
  int Fd() const override { return -1; }

  std::string Name() const;  // "ip:port" as Redis logs replicas
  bool closed() const { return closed_; }

  LinkState state = LinkState::kWaitBgsaveStart;
  int64_t psync_offset = 0;  // where its stream starts (FULLRESYNC offset)
  int64_t ack_offset = 0;
  int64_t ack_time_ms = 0;
  int64_t created_ms = 0;
  bool start_stream_on_ack = false;  // diskless: online at the first ACK
  bool capa_eof = false;
  bool compressing_transport = false;
  bool capa_psync2 = false;
  bool pre_psync = false;  // SYNC: no ACKs expected
  std::string ip;
  int listening_port = 0;
  // Disk transfer progress.
  int bulk_fd = -1;
  int64_t bulk_off = 0, bulk_size = 0;
  cmd::ClientState client;  // CLIENT LIST / KILL see the replica through it
  std::string held_;        // stream bytes while the RDB is being produced or sent

 private:
  void StartRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void ProcessInput();
  void StartWrite();
  void OnWritten(const boost::system::error_code& ec);

  ReplicationMaster& master_;
  std::unique_ptr<net::ByteStream> stream_;
  std::string rbuf_;
  size_t rlen_ = 0;
  std::string out_;
  std::string writing_;
  size_t write_pos_ = 0;
  bool write_busy_ = false;
  bool closed_ = false;
  bool registered_ = false;
  int64_t obuf_soft_since_ms_ = 0;
  std::vector<std::function<void()>> drained_;
};

class ReplicationMaster : public cmd::PropagationSink {
 public:
  ReplicationMaster(cmd::ServerState& state, config::Config& config, boost::asio::io_context& io,
                    ReplIds& ids, SnapshotSource& snapshots);
  ~ReplicationMaster() override;

  // PropagationSink: a write of this node (ignored while it is a replica: the
  // master's own bytes are proxied through FeedRaw instead).
  void Feed(int db, const std::vector<std::string>& argv) override;
  bool TakesReplicationOnly() const override { return true; }
  // Appends stream bytes to the backlog and every link.
  void FeedRaw(std::string_view bytes);

  // A client sent PSYNC/SYNC and handed its transport over.
  void AcceptReplica(const ReplicaHello& c, std::vector<std::string> argv,
                     std::unique_ptr<net::ByteStream> stream, std::string unread,
                     std::string unsent);
  void OnRdbChildDone(bool ok, bool to_pipe);
  // Starts the writes of what was fed since the last flush.
  void FlushLinks();
  // Called every server cron tick; the once-per-second part runs on its own.
  void Cron();
  void Wait(cmd::ClientState& c, int64_t numreplicas, int64_t timeout_ms);

  // Backlog life cycle (a replica keeps one too: its sub-replicas read it).
  void CreateBacklog();
  void FreeBacklog();
  bool has_backlog() const { return backlog_ != nullptr; }
  const ReplBacklog* backlog() const { return backlog_.get(); }
  void ResizeBacklog(size_t size);
  void DisconnectReplicas(const std::string& why);
  // The next fed write starts with SELECT (after a full sync, a promotion).
  void ResetSelectedDb() { selected_db_ = -1; }
  int selected_db() const { return selected_db_; }
  void set_selected_db(int db) { selected_db_ = db; }
  void set_is_replica(bool on) { is_replica_ = on; }

  int GoodReplicas() const { return good_replicas_; }
  const std::vector<std::shared_ptr<ReplicaLink>>& links() const { return links_; }
  void LinkAcked(ReplicaLink& l);
  void LinkClosed(ReplicaLink& l);
  cmd::ServerState& state() { return state_; }
  config::Config& config() { return config_; }
  boost::asio::io_context& io() { return io_; }

 private:
  bool TryPartialResync(ReplicaLink& l, const std::string& replid, int64_t offset);
  void SetupFullResync(ReplicaLink& l, int64_t offset);
  void StartBgsaveForReplication();
  // Starts a BGSAVE for replicas waiting for one, unless their delay runs.
  void StartWaitingReplicas();
  // A child runs or a diskless transfer is still being relayed.
  bool TransferBusy() const { return snapshots_.ChildActive() || pipe_ != nullptr; }
  void RelayPipe();
  void FinishPipe(bool child_ok);
  void SendNextBulkChunk(const std::shared_ptr<ReplicaLink>& l);
  // Once a second: ping, newlines to waiting replicas, timeouts, delayed
  // diskless starts, the backlog's TTL.
  void SecondCron();
  // Recounts the replicas that satisfy min-replicas-max-lag.
  void RefreshReplicas();
  void CheckWaiters(int64_t now_ms);
  void UpdateSinkRegistration();
  void ScheduleFlush();
  void RemoveClosedLinks();

  cmd::ServerState& state_;
  config::Config& config_;
  boost::asio::io_context& io_;
  ReplIds& ids_;
  SnapshotSource& snapshots_;
  std::unique_ptr<ReplBacklog> backlog_;
  std::vector<std::shared_ptr<ReplicaLink>> links_;
  int selected_db_ = -1;
  bool is_replica_ = false;
  bool registered_sink_ = false;
  int good_replicas_ = 0;
  int64_t no_replicas_since_s_ = 0;
  int64_t last_second_ms_ = 0;
  int64_t cron_seconds_ = 0;
  bool getack_pending_ = false;
  bool flush_posted_ = false;
  std::string scratch_;

  // Diskless transfer in flight.
  struct PipeTransfer {
    std::unique_ptr<boost::asio::posix::stream_descriptor> pipe;
    std::vector<std::weak_ptr<ReplicaLink>> targets;
    std::string chunk;
    size_t waiting = 0;
    bool eof = false;         // the pipe is drained
    bool child_done = false;  // the child exited successfully
  };
  std::unique_ptr<PipeTransfer> pipe_;
  bool disk_child_for_replicas_ = false;

  struct Waiter {
    uint64_t client_id;
    int64_t offset;
    int64_t numreplicas;
    int64_t deadline_ms;  // 0 = forever
  };
  std::vector<Waiter> waiters_;
};

}  // namespace cairn::repl
