// Replication as the command layer sees it: the counters INFO reports and
// ReplicationControl, what REPLICAOF, ROLE, PSYNC/SYNC, REPLCONF, WAIT and INFO
// replication ask of the engine (node/replication implements it). Commands
// never touch links or the backlog themselves.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "node/base/status.h"

namespace cairn::cmd {

struct ClientState;

struct ReplStats {
  uint64_t sync_full = 0;
  uint64_t sync_partial_ok = 0;
  uint64_t sync_partial_err = 0;
  uint64_t net_repl_input_bytes = 0;   // read from our master
  uint64_t net_repl_output_bytes = 0;  // sent to our replicas
};

class ReplicationControl {
 public:
  virtual ~ReplicationControl() = default;
  // This node follows a master (REPLICAOF host port / config replicaof).
  virtual bool IsReplica() const = 0;
  // A replica whose link is up and synced (replica-serve-stale-data).
  virtual bool MasterLinkUp() const = 0;
  // Replicas online with lag <= min-replicas-max-lag (min-replicas-to-write).
  virtual int GoodReplicas() const = 0;
  // REPLICAOF host port (port > 0) or REPLICAOF NO ONE (host empty). Ok
  // carries the status text ("OK", "OK Already connected to specified master").
  virtual Result<std::string> ReplicaOf(ClientState& c, const std::string& host, int port) = 0;
  // PSYNC replid offset / SYNC (argv as received). Either replies an error to
  // c and returns false, or arranges for the connection to become a replica
  // link once the command returns (ClientState::handoff) and returns true.
  virtual bool Sync(ClientState& c, const std::vector<std::string>& argv) = 0;
  // WAIT numreplicas timeout: replies at once or blocks c until enough
  // replicas acknowledged the current offset or the timeout passed.
  virtual void Wait(ClientState& c, int64_t numreplicas, int64_t timeout_ms) = 0;
  // ROLE's reply, written to c.
  virtual void Role(ClientState& c) = 0;
  // INFO replication's fields after `role` (role included), in Redis's order.
  virtual void InfoFields(std::vector<std::pair<std::string, std::string>>* out) = 0;
  // The master's replication offset and backlog bytes (INFO memory/stats).
  virtual uint64_t BacklogMemory() const = 0;
  // Promotion (BACKUP PROMOTE / RESTORE): stop replicating, if a replica, and
  // start a history as a master. From live data the old history stays valid
  // (replid2) so the old master's other replicas continue by partial resync;
  // after the dataset was replaced (`dataset_replaced`) the history starts
  // afresh and every replica resyncs in full.
  virtual void Promote(bool dataset_replaced) = 0;
};

}  // namespace cairn::cmd
