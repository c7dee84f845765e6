// The replica side of replication: one connection to the master, from the
// handshake through the RDB transfer to applying the command stream — what
// Redis 7.0's replica does, with the same messages and log lines.
//
// DESIGN
// - One MasterConnection per attempt; the service makes a new one after a
//   failure (reconnect with backoff from its cron), so no state leaks between
//   attempts. It talks to the master through a net::ByteStream it never looks
//   through (TCP or the secure channel: the Connector decides).
// - Handshake: PING, then AUTH / REPLCONF listening-port / [ip-address] /
//   capa eof psync2 pipelined, then PSYNC; bare "\n" keepalives from the master
//   are skipped wherever a reply is awaited.
// - RDB: "$<len>" or "$EOF:<mark>" framing, to a temp file renamed over
//   dir/dbfilename and loaded (repl-diskless-load disabled), or kept in memory
//   and loaded into fresh databases swapped in on success (swapdb).
// - Stream: each complete command runs through the dispatcher as the master
//   client; once applied (a whole MULTI/EXEC at its EXEC) its bytes advance
//   the offset and are proxied to this node's backlog and sub-replicas.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "node/base/status.h"
#include "node/commands/client_state.h"
#include "node/net/byte_stream.h"

namespace cairn::repl {

// What the connection needs from the node (ReplicationService implements it).
class ReplicaHost {
 public:
  virtual ~ReplicaHost() = default;
  // PSYNC's arguments: ("?", -1) without history, else (replid, offset + 1).
  virtual std::pair<std::string, int64_t> PsyncArgs() = 0;
  // The master answered +FULLRESYNC (our history is gone from here on).
  virtual void FullSyncStarted() = 0;
  // Replaces the dataset with the received RDB (see PersistenceService).
  virtual Status LoadFromMaster(const std::string& path, std::string_view data, bool swap) = 0;
  virtual void FullSyncDone(const std::string& replid, int64_t offset, int stream_db) = 0;
  // +CONTINUE [replid]: the (possibly new) id of the master's history.
  virtual void PartialSyncAccepted(const std::string& replid) = 0;
  virtual void Execute(cmd::ClientState& master, const std::vector<std::string_view>& argv) = 0;
  // Bytes of the master's stream whose commands were applied.
  virtual void Applied(std::string_view bytes) = 0;
  virtual int64_t Offset() const = 0;
  // The link failed or closed (`was_connected`: it had been up). With
  // `reconnect_now` the next attempt starts at once rather than from the
  // once-a-second cron (a dropped link or transfer, as Redis 7.0 does: the
  // backlog may not wait a second).
  virtual void LinkLost(bool was_connected, bool reconnect_now) = 0;
  virtual bool DatasetEmpty() const = 0;
  // Bytes of the RDB transfer read (INFO stats, net_repl_input_bytes).
  virtual void AccountTransfer(size_t n) = 0;
};

// ROLE / INFO states of the replica.
enum class ReplState { kConnecting, kHandshake, kTransfer, kConnected };

class MasterConnection : public cmd::ClientIo,
                         public std::enable_shared_from_this<MasterConnection> {
 public:
  struct Settings {
    std::string host;
    int port = 0;
    std::string masteruser, masterauth;
    int listening_port = 0;
    std::string announce_ip;
    std::string dir, dbfilename;
    std::string diskless_load;  // disabled | on-empty-db | swapdb
    int64_t proto_max_bulk_len = 512LL << 20;
    int initial_db = 0;  // the master stream's db (repl-stream-db after a restart)
  };

  MasterConnection(ReplicaHost& host, Settings settings, uint64_t client_id);
  ~MasterConnection() override;

  // Starts the handshake on a connected stream.
  void Start(std::unique_ptr<net::ByteStream> stream);
  // Ends the link (no LinkLost callback).
  void Stop();
  void SendAck();
  // A bare newline: "still here" while the received dataset loads (no offset in it).
  void SendKeepalive() { Send("\n"); }
  // Replication timeout check (called once a second).
  void CheckTimeout(int64_t now_ms, int timeout_s);

  ReplState state() const { return state_; }
  int64_t last_io_ms() const { return last_io_ms_; }
  int64_t transfer_size() const { return transfer_size_; }  // -1 when EOF-framed
  int64_t transfer_read() const { return transfer_read_; }
  int64_t read_offset() const;  // slave_read_repl_offset
  cmd::ClientState& client() { return client_; }

  // cmd::ClientIo
  void RequestFlush() override {}
  void Close(bool after_reply) override;
  size_t PendingOutput() const override { return out_.size() + writing_.size(); }
  size_t QueryBufferLength() const override { return rlen_; }
  size_t QueryBufferFree() const override { return rbuf_.size() - rlen_; }
  int Fd() const override { return -1; }

 private:
  enum class Step { kPong, kAuth, kPort, kIp, kCapa, kPsync, kBulkHeader, kBulk, kStream };
  void Send(std::string_view bytes);
  void SendCommand(const std::vector<std::string>& argv);
  void StartWrite();
  void StartRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  // Consumes what rbuf_ holds for the current step; false when the link failed.
  bool Process();
  bool ReadLine(std::string* line);  // false: need more
  bool HandleReply(const std::string& line);
  void SendHandshake();
  bool HandlePsyncReply(const std::string& line);
  bool StartBulk(const std::string& line);
  bool ConsumeBulk();
  bool FinishBulk();
  bool ApplyStream();
  void Fail(const std::string& why);

  ReplicaHost& host_;
  Settings cfg_;
  std::unique_ptr<net::ByteStream> stream_;
  ReplState state_ = ReplState::kConnecting;
  Step step_ = Step::kPong;
  cmd::ClientState client_;  // the master as a client (flags M)
  std::string rbuf_;
  size_t rlen_ = 0;
  std::string out_, writing_;
  bool write_busy_ = false;
  bool closed_ = false;
  bool was_connected_ = false;
  int64_t last_io_ms_ = 0;
  int64_t started_ms_ = 0;
  // Full sync
  std::string master_replid_;
  int64_t master_offset_ = 0;
  bool eof_framed_ = false;
  std::string eof_mark_;
  int64_t transfer_size_ = -1;
  int64_t transfer_read_ = 0;
  bool to_disk_ = true;
  int tmp_fd_ = -1;
  std::string tmp_path_;
  std::string mem_rdb_;
  std::string tail_;   // EOF-framed: bytes not yet known to be RDB (may be the mark)
  size_t parsed_ = 0;  // stream bytes executed but not yet applied (an open MULTI)
  std::vector<std::string_view> argv_;
  std::string scratch_;
};

}  // namespace cairn::repl
