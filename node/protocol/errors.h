// Redis 7.0's error replies, byte for byte. Handlers refer to these names; the
// strings live only here. A message without a leading '-' gets "-ERR " prepended
// by Reply::Error, exactly as Redis's addReplyError does.
#pragma once

#include <string_view>

namespace cairn::protocol::err {

inline constexpr std::string_view kWrongType =
    "-WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kSyntax = "syntax error";
inline constexpr std::string_view kNotInteger = "value is not an integer or out of range";
inline constexpr std::string_view kNotFloat = "value is not a valid float";
inline constexpr std::string_view kNoSuchKey = "no such key";
inline constexpr std::string_view kIndexOutOfRange = "index out of range";
inline constexpr std::string_view kSameObject = "source and destination objects are the same";
inline constexpr std::string_view kDbIndexOutOfRange = "DB index is out of range";
inline constexpr std::string_view kInvalidExpire = "invalid expire time in '%s' command";
inline constexpr std::string_view kOverflow = "increment or decrement would overflow";
inline constexpr std::string_view kTimeoutNotFloat = "timeout is not a float or out of range";
inline constexpr std::string_view kTimeoutNegative = "timeout is negative";
inline constexpr std::string_view kLoading = "-LOADING Redis is loading the dataset in memory";
inline constexpr std::string_view kReadonly =
    "-READONLY You can't write against a read only replica.";
inline constexpr std::string_view kReadonlyBackup =
    "-READONLY You can't write against a backup node. Promote it first (BACKUP PROMOTE, or "
    "cairn promote).";
inline constexpr std::string_view kNoAuth = "-NOAUTH Authentication required.";
inline constexpr std::string_view kWrongPass =
    "-WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kOom = "-OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kExecAbort =
    "-EXECABORT Transaction discarded because of previous errors.";
inline constexpr std::string_view kBusyKey = "-BUSYKEY Target key name already exists.";
inline constexpr std::string_view kMasterDown =
    "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
inline constexpr std::string_view kNoReplicas = "-NOREPLICAS Not enough good replicas to write.";
inline constexpr std::string_view kMisconf =
    "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
    "to disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error.";
inline constexpr std::string_view kNoScript = "-NOSCRIPT No matching script. Please use EVAL.";
inline constexpr std::string_view kNotBusy = "-NOTBUSY No scripts in execution right now.";
inline constexpr std::string_view kMultiNested = "MULTI calls can not be nested";
inline constexpr std::string_view kExecWithoutMulti = "EXEC without MULTI";
inline constexpr std::string_view kDiscardWithoutMulti = "DISCARD without MULTI";
inline constexpr std::string_view kWatchInMulti = "WATCH inside MULTI is not allowed";

}  // namespace cairn::protocol::err
