// Replica side: handshake, RDB transfer, stream application (see replica.h).
#include "node/replication/replica.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "node/base/clock.h"
#include "node/base/log.h"
#include "node/base/number.h"
#include "node/persistence/aof_format.h"
#include "node/protocol/resp_parser.h"

namespace cairn::repl {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMarkLen = 40;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

MasterConnection::MasterConnection(ReplicaHost& host, Settings settings, uint64_t client_id)
    : host_(host), cfg_(std::move(settings)) {
  client_.id = client_id;
  client_.flags = cmd::kMaster;
  client_.authenticated = true;
  client_.ctime_ms = base::NowMs();
  client_.last_interaction_ms = client_.ctime_ms;
  client_.io = this;
  client_.db_index = cfg_.initial_db;
}

MasterConnection::~MasterConnection() {
  if (tmp_fd_ >= 0) ::close(tmp_fd_);
  if (!tmp_path_.empty()) unlink(tmp_path_.c_str());
}

void MasterConnection::Start(std::unique_ptr<net::ByteStream> stream) {
  stream_ = std::move(stream);
  client_.addr = stream_->PeerAddress();
  client_.laddr = stream_->LocalAddress();
  state_ = ReplState::kHandshake;
  step_ = Step::kPong;
  started_ms_ = last_io_ms_ = base::NowMs();
  SendCommand({"PING"});
  StartRead();
}

void MasterConnection::Stop() {
  if (closed_) return;
  closed_ = true;
  if (stream_) stream_->Close();
}

void MasterConnection::Close(bool) {
  // CLIENT KILL TYPE master: the link drops and the replica reconnects.
  Fail("closed by CLIENT KILL");
}

void MasterConnection::Fail(const std::string& why) {
  if (closed_) return;
  const bool connected = state_ == ReplState::kConnected;
  const bool transfer = state_ == ReplState::kTransfer;
  if (connected)
    log::Repl().info("Connection with master lost.");
  else
    log::Repl().warn("Replication with master {}:{} failed: {}", cfg_.host, cfg_.port, why);
  Stop();
  host_.LinkLost(connected, connected || transfer);
}

void MasterConnection::Send(std::string_view bytes) {
  if (closed_) return;
  out_.append(bytes);
  if (!write_busy_) StartWrite();
}

void MasterConnection::SendCommand(const std::vector<std::string>& argv) {
  std::string s;
  persist::AppendAofCommand(&s, argv);
  Send(s);
}

void MasterConnection::StartWrite() {
  if (closed_ || write_busy_ || out_.empty()) return;
  writing_.swap(out_);
  out_.clear();
  write_busy_ = true;
  stream_->AsyncWrite(writing_.data(), writing_.size(),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        self->write_busy_ = false;
                        if (self->closed_) return;
                        if (ec) {
                          self->Fail("write error: " + ec.message());
                          return;
                        }
                        self->writing_.clear();
                        self->StartWrite();
                      });
}

void MasterConnection::SendAck() {
  if (state_ != ReplState::kConnected) return;
  SendCommand({"REPLCONF", "ACK", std::to_string(host_.Offset())});
}

void MasterConnection::CheckTimeout(int64_t now_ms, int timeout_s) {
  if (closed_ || now_ms - last_io_ms_ <= static_cast<int64_t>(timeout_s) * 1000) return;
  switch (state_) {
    case ReplState::kConnected:
      log::Repl().warn("MASTER timeout: no data nor PING received...");
      break;
    case ReplState::kTransfer:
      log::Repl().warn(
          "Timeout receiving bulk data from MASTER... If the problem persists try to set the "
          "'repl-timeout' parameter in cairn.conf to a larger value.");
      break;
    default:
      log::Repl().warn("Timeout connecting to the MASTER...");
  }
  Fail("timeout");
}

int64_t MasterConnection::read_offset() const {
  return host_.Offset() + (step_ == Step::kStream ? static_cast<int64_t>(rlen_) : 0);
}

void MasterConnection::StartRead() {
  if (closed_) return;
  if (rbuf_.size() < rlen_ + kReadChunk) rbuf_.resize(rlen_ + kReadChunk);
  stream_->AsyncReadSome(rbuf_.data() + rlen_, kReadChunk,
                         [self = shared_from_this()](const boost::system::error_code& ec,
                                                     size_t n) { self->OnRead(ec, n); });
}

void MasterConnection::OnRead(const boost::system::error_code& ec, size_t n) {
  if (closed_) return;
  if (ec) {
    Fail(ec == boost::asio::error::eof ? "connection closed by the master" : ec.message());
    return;
  }
  rlen_ += n;
  last_io_ms_ = base::NowMs();
  client_.last_interaction_ms = last_io_ms_;
  if (!Process()) return;
  // A big bulk argument: make room for all of it instead of reading in chunks.
  StartRead();
}

bool MasterConnection::ReadLine(std::string* line) {
  // Keepalive newlines come before replies and before the RDB header.
  size_t skip = 0;
  while (skip < rlen_ && rbuf_[skip] == '\n') skip++;
  if (skip > 0) {
    rbuf_.erase(0, skip);
    rlen_ -= skip;
  }
  const char* nl = static_cast<const char*>(memchr(rbuf_.data(), '\n', rlen_));
  if (nl == nullptr) return false;
  size_t len = static_cast<size_t>(nl - rbuf_.data());
  line->assign(rbuf_.data(), len > 0 && rbuf_[len - 1] == '\r' ? len - 1 : len);
  rbuf_.erase(0, len + 1);
  rlen_ -= len + 1;
  return true;
}

bool MasterConnection::Process() {
  std::string line;
  while (!closed_) {
    if (step_ == Step::kBulk) return ConsumeBulk();
    if (step_ == Step::kStream) return ApplyStream();
    if (!ReadLine(&line)) return true;
    if (!HandleReply(line)) return false;
  }
  return false;
}

bool MasterConnection::HandleReply(const std::string& line) {
  bool err = !line.empty() && line[0] == '-';
  switch (step_) {
    case Step::kPong:
      if (err && !StartsWith(line, "-NOAUTH") && !StartsWith(line, "-NOPERM") &&
          !StartsWith(line, "-ERR operation not permitted")) {
        log::Repl().warn("Error reply to PING from master: '{}'", line);
        Fail("error reply to PING");
        return false;
      }
      log::Repl().info("Master replied to PING, replication can continue...");
      SendHandshake();
      return true;
    case Step::kAuth:
      if (err) {
        log::Repl().warn("Unable to AUTH to MASTER: {}", line);
        Fail("AUTH failed");
        return false;
      }
      step_ = Step::kPort;
      return true;
    case Step::kPort:
      if (err)
        log::Repl().info("(Non critical) Master does not understand REPLCONF listening-port: {}",
                         line);
      step_ = cfg_.announce_ip.empty() ? Step::kCapa : Step::kIp;
      return true;
    case Step::kIp:
      if (err)
        log::Repl().info("(Non critical) Master does not understand REPLCONF ip-address: {}", line);
      step_ = Step::kCapa;
      return true;
    case Step::kCapa: {
      if (err)
        log::Repl().info("(Non critical) Master does not understand REPLCONF capa: {}", line);
      auto [replid, offset] = host_.PsyncArgs();
      if (replid == "?")
        log::Repl().info("Partial resynchronization not possible (no cached master)");
      else
        log::Repl().info("Trying a partial resynchronization (request {}:{}).", replid, offset);
      SendCommand({"PSYNC", replid, std::to_string(offset)});
      step_ = Step::kPsync;
      return true;
    }
    case Step::kPsync:
      return HandlePsyncReply(line);
    case Step::kBulkHeader:
      return StartBulk(line);
    default:
      return true;
  }
}

void MasterConnection::SendHandshake() {
  // Pipelined as Redis does; the replies are read in order afterwards.
  if (!cfg_.masterauth.empty()) {
    if (cfg_.masteruser.empty())
      SendCommand({"AUTH", cfg_.masterauth});
    else
      SendCommand({"AUTH", cfg_.masteruser, cfg_.masterauth});
  }
  SendCommand({"REPLCONF", "listening-port", std::to_string(cfg_.listening_port)});
  if (!cfg_.announce_ip.empty()) SendCommand({"REPLCONF", "ip-address", cfg_.announce_ip});
  SendCommand({"REPLCONF", "capa", "eof", "capa", "psync2"});
  step_ = cfg_.masterauth.empty() ? Step::kPort : Step::kAuth;
}

bool MasterConnection::HandlePsyncReply(const std::string& line) {
  if (StartsWith(line, "+FULLRESYNC")) {
    // +FULLRESYNC <replid> <offset>
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string::npos || sp2 - sp1 - 1 != 40 ||
        !base::ParseInt64(std::string_view(line).substr(sp2 + 1), &master_offset_)) {
      log::Repl().warn("Master replied with wrong +FULLRESYNC syntax.");
      Fail("bad +FULLRESYNC");
      return false;
    }
    master_replid_ = line.substr(sp1 + 1, 40);
    log::Repl().info("Full resync from master: {}:{}", master_replid_, master_offset_);
    host_.FullSyncStarted();
    step_ = Step::kBulkHeader;
    state_ = ReplState::kTransfer;
    return true;
  }
  if (StartsWith(line, "+CONTINUE")) {
    std::string id = line.size() > 10 ? line.substr(10) : std::string();
    log::Repl().info("Successful partial resynchronization with master.");
    host_.PartialSyncAccepted(id);
    log::Repl().info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    state_ = ReplState::kConnected;
    step_ = Step::kStream;
    was_connected_ = true;
    return true;
  }
  if (StartsWith(line, "-NOMASTERLINK") || StartsWith(line, "-LOADING")) {
    log::Repl().info("Master is currently unable to PSYNC but should be in the future: {}", line);
  } else {
    log::Repl().warn("Unexpected reply to PSYNC from master: {}", line);
  }
  Fail("PSYNC refused");
  return false;
}

bool MasterConnection::StartBulk(const std::string& line) {
  if (!line.empty() && line[0] == '-') {
    log::Repl().warn("MASTER aborted replication with an error: {}", line.substr(1));
    Fail("master aborted the transfer");
    return false;
  }
  if (line.empty() || line[0] != '$') {
    log::Repl().warn(
        "Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure "
        "the host and port are right?",
        line.substr(0, 64));
    Fail("bad bulk header");
    return false;
  }
  if (StartsWith(line, "$EOF:") && line.size() == 5 + kMarkLen) {
    eof_framed_ = true;
    eof_mark_ = line.substr(5);
    transfer_size_ = -1;
  } else {
    eof_framed_ = false;
    if (!base::ParseInt64(std::string_view(line).substr(1), &transfer_size_) ||
        transfer_size_ < 0) {
      Fail("bad bulk length");
      return false;
    }
  }
  transfer_read_ = 0;
  to_disk_ = cfg_.diskless_load == "disabled" ||
             (cfg_.diskless_load == "on-empty-db" && !host_.DatasetEmpty());
  if (to_disk_) {
    tmp_path_ = cfg_.dir + "/temp-" + std::to_string(base::RealWallMs() / 1000) + "." +
                std::to_string(getpid()) + ".rdb";
    tmp_fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (tmp_fd_ < 0) {
      log::Repl().warn("Opening the temp file needed for MASTER <-> REPLICA synchronization: {}",
                       strerror(errno));
      tmp_path_.clear();
      Fail("can't open the temp file");
      return false;
    }
  }
  if (eof_framed_)
    log::Repl().info("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {}",
                     to_disk_ ? "disk" : "memory");
  else
    log::Repl().info("MASTER <-> REPLICA sync: receiving {} bytes from master to {}",
                     transfer_size_, to_disk_ ? "disk" : "memory");
  step_ = Step::kBulk;
  return true;
}

bool MasterConnection::ConsumeBulk() {
  size_t take = rlen_;
  if (!eof_framed_)
    take = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(rlen_), transfer_size_ - transfer_read_));
  std::string_view data(rbuf_.data(), take);
  transfer_read_ += static_cast<int64_t>(take);
  bool done = false;
  std::string_view payload = data;
  std::string joined;
  if (eof_framed_) {
    // Hold back the last 40 bytes: they may be the end mark.
    joined = tail_;
    joined.append(data);
    if (joined.size() >= kMarkLen &&
        std::string_view(joined).substr(joined.size() - kMarkLen) == eof_mark_) {
      done = true;
      payload = std::string_view(joined).substr(0, joined.size() - kMarkLen);
      tail_.clear();
    } else if (joined.size() > kMarkLen) {
      payload = std::string_view(joined).substr(0, joined.size() - kMarkLen);
      tail_ = joined.substr(joined.size() - kMarkLen);
    } else {
      payload = {};
      tail_ = joined;
    }
  } else {
    done = transfer_read_ == transfer_size_;
  }
  if (!payload.empty()) {
    if (to_disk_) {
      const char* p = payload.data();
      size_t left = payload.size();
      while (left > 0) {
        ssize_t n = ::write(tmp_fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          log::Repl().warn(
              "Write error or short write writing to the DB dump file needed for MASTER <-> "
              "REPLICA synchronization: {}",
              strerror(errno));
          Fail("write error on the temp file");
          return false;
        }
        p += n;
        left -= static_cast<size_t>(n);
      }
    } else {
      mem_rdb_.append(payload);
    }
  }
  host_.AccountTransfer(take);
  rbuf_.erase(0, take);
  rlen_ -= take;
  if (!done) return true;
  return FinishBulk();
}

bool MasterConnection::FinishBulk() {
  Status s;
  if (to_disk_) {
    if (fsync(tmp_fd_) != 0) {
      log::Repl().warn(
          "Failed trying to sync the temp DB to disk in MASTER <-> REPLICA "
          "synchronization: {}",
          strerror(errno));
      Fail("fsync failed");
      return false;
    }
    ::close(tmp_fd_);
    tmp_fd_ = -1;
    s = host_.LoadFromMaster(tmp_path_, {}, false);
    if (s.ok()) {
      // The received snapshot becomes this node's dump file, as in Redis.
      std::string target = cfg_.dir + "/" + cfg_.dbfilename;
      if (rename(tmp_path_.c_str(), target.c_str()) != 0)
        log::Repl().warn(
            "Failed trying to rename the temp DB into {} in MASTER <-> REPLICA "
            "synchronization: {}",
            target, strerror(errno));
    }
    unlink(tmp_path_.c_str());
    tmp_path_.clear();
  } else {
    s = host_.LoadFromMaster({}, mem_rdb_, cfg_.diskless_load == "swapdb");
    std::string().swap(mem_rdb_);
  }
  if (closed_) return false;  // stopped while loading (shutdown, REPLICAOF)
  if (!s.ok()) {
    log::Repl().warn("Failed trying to load the MASTER synchronization DB from {}: {}",
                     to_disk_ ? "disk" : "socket", s.message());
    Fail("loading the RDB failed");
    return false;
  }
  host_.FullSyncDone(master_replid_, master_offset_, 0);
  client_.db_index = 0;
  state_ = ReplState::kConnected;
  step_ = Step::kStream;
  was_connected_ = true;
  log::Repl().info("MASTER <-> REPLICA sync: Finished with success");
  // After a diskless transfer the master waits for this ACK before streaming.
  if (eof_framed_) SendAck();
  return ApplyStream();
}

bool MasterConnection::ApplyStream() {
  protocol::ParseLimits limits;
  limits.from_master = true;
  limits.max_bulk_len = cfg_.proto_max_bulk_len;
  size_t pos = parsed_;  // parsed up to here
  size_t applied = 0;    // applied (and proxied) up to here
  while (!closed_ && pos < rlen_) {
    auto r = protocol::ParseCommand(rbuf_.data() + pos, rlen_ - pos, limits, &argv_, &scratch_);
    if (r.status == protocol::ParseStatus::kNeedMore) break;
    if (r.status == protocol::ParseStatus::kError) {
      log::Repl().warn("Protocol error from MASTER: {}", r.error);
      Fail("protocol error in the replication stream");
      return false;
    }
    size_t start = pos;
    pos += r.consumed;
    if (r.status == protocol::ParseStatus::kEmpty) {
      if (!client_.has(cmd::kInMulti)) {
        host_.Applied(std::string_view(rbuf_.data() + start, pos - start));
        applied = pos;
      }
      continue;
    }
    if (argv_.size() >= 2 && base::EqualsNoCase(argv_[0], "replconf") &&
        base::EqualsNoCase(argv_[1], "getack")) {
      SendAck();  // the offset before this GETACK, as Redis answers
    } else {
      host_.Execute(client_, argv_);
      client_.out.clear();
      if (closed_) return false;
    }
    if (!client_.has(cmd::kInMulti)) {
      host_.Applied(std::string_view(rbuf_.data() + applied, pos - applied));
      applied = pos;
    }
  }
  if (applied > 0) {
    rbuf_.erase(0, applied);
    rlen_ -= applied;
  }
  parsed_ = pos - applied;
  return !closed_;
}

}  // namespace cairn::repl
