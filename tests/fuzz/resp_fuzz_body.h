// The body of the RESP parser fuzz target, shared by the libFuzzer entry point
// (resp_parser_fuzz.cc) and the unit test that replays the seed corpus in normal
// builds. Aborts on any broken invariant so both harnesses report it.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "node/base/number.h"
#include "node/protocol/reply.h"
#include "node/protocol/resp_parser.h"

namespace cairn::fuzz {

inline void Require(bool ok) {
  if (!ok) std::abort();
}

struct Drained {
  std::vector<std::vector<std::string>> commands;
  size_t consumed = 0;
  bool error = false;
  std::string error_msg;
};

// Parses commands from the front of data[0, len) as a connection does, writing a
// reply for each one (and for a protocol error) to exercise the reply writer.
inline Drained Drain(const char* data, size_t len, const protocol::ParseLimits& limits, int proto) {
  Drained d;
  std::vector<std::string_view> argv;
  std::string scratch, out;
  protocol::Reply reply(&out, proto);
  while (d.consumed < len) {
    const char* p = data + d.consumed;
    size_t n = len - d.consumed;
    protocol::ParseResult r = protocol::ParseCommand(p, n, limits, &argv, &scratch);
    if (r.status == protocol::ParseStatus::kNeedMore) {
      // (argv may hold a partial command here; only kCommand defines it.)
      Require(r.needed_hint == 0 || r.needed_hint > n);
      break;
    }
    if (r.status == protocol::ParseStatus::kError) {
      Require(r.error.rfind("Protocol error: ", 0) == 0);
      reply.Error(r.error);
      Require(out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0);
      d.error = true;
      d.error_msg = r.error;
      break;
    }
    Require(r.consumed > 0 && r.consumed <= n);
    if (r.status == protocol::ParseStatus::kEmpty) {
      Require(argv.empty());
    } else {
      Require(!argv.empty());
      std::vector<std::string> cmd;
      reply.Array(argv.size());
      for (std::string_view a : argv) {
        // Every argument points into the input or into scratch.
        bool in_data = a.data() >= p && a.data() + a.size() <= p + r.consumed;
        bool in_scratch =
            a.data() >= scratch.data() && a.data() + a.size() <= scratch.data() + scratch.size();
        Require(in_data || in_scratch || a.empty());
        cmd.emplace_back(a);
        reply.Bulk(a);
        int64_t iv;
        if (base::ParseInt64(a, &iv)) {
          Require(base::Int64ToString(iv) == a);
          reply.Int(iv);
        }
        double dv;
        if (base::ParseDouble(a, &dv)) reply.Double(dv);
      }
      reply.Verbatim(cmd[0]);
      reply.Error(cmd.back());
      d.commands.push_back(std::move(cmd));
    }
    d.consumed += r.consumed;
    if (out.size() > (1 << 20)) out.clear();
  }
  return d;
}

inline void FuzzRespOnce(const uint8_t* bytes, size_t size) {
  const char* data = reinterpret_cast<const char*>(bytes);
  protocol::ParseLimits open_limits;
  protocol::ParseLimits tight;
  tight.authenticated = false;
  tight.max_bulk_len = 1024;
  for (const auto& limits : {open_limits, tight}) {
    Drained whole = Drain(data, size, limits, 2);
    // Feeding a prefix first, then everything from where it stopped, must give
    // the same commands: the stateless re-parse may not see a different stream.
    size_t cut = size / 2;
    Drained first = Drain(data, cut, limits, 3);
    if (!first.error) {
      Drained rest = Drain(data + first.consumed, size - first.consumed, limits, 3);
      std::vector<std::vector<std::string>> joined = first.commands;
      joined.insert(joined.end(), rest.commands.begin(), rest.commands.end());
      Require(joined == whole.commands);
      Require(first.consumed + rest.consumed == whole.consumed);
      Require(rest.error == whole.error && rest.error_msg == whole.error_msg);
    }
    // (A prefix may fail where the whole does not: "too big inline request" is
    // judged on what has arrived so far, exactly as in Redis.)
  }
  // The inline splitter (also the config file parser) on the first line.
  std::string_view line(data, size);
  size_t nl = line.find('\n');
  if (nl != std::string_view::npos) line = line.substr(0, nl);
  std::vector<std::string> words;
  protocol::SplitArgs(line, &words);
}

}  // namespace cairn::fuzz
