// Reply writer: every reply kind in its RESP2 and RESP3 wire form, as Redis 7.0
// writes them, plus error sanitizing, deferred lengths and error counting.
#include "node/protocol/reply.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

using cairn::protocol::Reply;

namespace {

template <typename Fn>
std::string Wire(int proto, Fn&& fn) {
  std::string buf;
  Reply r(&buf, proto);
  fn(r);
  return buf;
}

}  // namespace

TEST_CASE("forms shared by RESP2 and RESP3", "[reply]") {
  for (int proto : {2, 3}) {
    INFO("proto " << proto);
    CHECK(Wire(proto, [](Reply& r) { r.Ok(); }) == "+OK\r\n");
    CHECK(Wire(proto, [](Reply& r) { r.Simple("PONG"); }) == "+PONG\r\n");
    CHECK(Wire(proto, [](Reply& r) { r.Int(0); }) == ":0\r\n");
    CHECK(Wire(proto, [](Reply& r) { r.Int(-42); }) == ":-42\r\n");
    CHECK(Wire(proto, [](Reply& r) { r.Int(INT64_MIN); }) == ":-9223372036854775808\r\n");
    CHECK(Wire(proto, [](Reply& r) { r.Int(INT64_MAX); }) == ":9223372036854775807\r\n");
    CHECK(Wire(proto, [](Reply& r) { r.Bulk(""); }) == "$0\r\n\r\n");
    CHECK(Wire(proto, [](Reply& r) { r.Bulk(std::string("a\0\r\n", 4)); }) ==
          std::string("$4\r\na\0\r\n\r\n", 10));
    CHECK(Wire(proto, [](Reply& r) { r.BulkInt(-7); }) == "$2\r\n-7\r\n");
    CHECK(Wire(proto, [](Reply& r) { r.BulkDouble(1.5); }) == "$3\r\n1.5\r\n");
    CHECK(Wire(proto, [](Reply& r) { r.Array(0); }) == "*0\r\n");
    CHECK(Wire(proto, [](Reply& r) {
            r.Array(2);
            r.Int(1);
            r.Bulk("x");
          }) == "*2\r\n:1\r\n$1\r\nx\r\n");
  }
}

TEST_CASE("RESP2 forms of RESP3 types", "[reply]") {
  CHECK(Wire(2, [](Reply& r) { r.Null(); }) == "$-1\r\n");
  CHECK(Wire(2, [](Reply& r) { r.NullArray(); }) == "*-1\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Map(2); }) == "*4\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Set(3); }) == "*3\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Push(3); }) == "*3\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Double(3.0); }) == "$1\r\n3\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Double(0.1); }) == "$19\r\n0.10000000000000001\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Bool(true); }) == ":1\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Bool(false); }) == ":0\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Verbatim("hello"); }) == "$5\r\nhello\r\n");
}

TEST_CASE("RESP3 forms", "[reply]") {
  CHECK(Wire(3, [](Reply& r) { r.Null(); }) == "_\r\n");
  CHECK(Wire(3, [](Reply& r) { r.NullArray(); }) == "_\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Map(2); }) == "%2\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Set(3); }) == "~3\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Push(3); }) == ">3\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Double(3.0); }) == ",3\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Double(-2.5); }) == ",-2.5\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Double(std::numeric_limits<double>::infinity()); }) == ",inf\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Double(-std::numeric_limits<double>::infinity()); }) ==
        ",-inf\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Bool(true); }) == "#t\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Bool(false); }) == "#f\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Verbatim("hello"); }) == "=9\r\ntxt:hello\r\n");
  CHECK(Wire(3, [](Reply& r) { r.Verbatim("x", "mkd"); }) == "=5\r\nmkd:x\r\n");
}

TEST_CASE("double formatting is %.17g with inf spelled as Redis does", "[reply]") {
  CHECK(Wire(2, [](Reply& r) { r.Double(1e300); }) == "$23\r\n1.0000000000000001e+300\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Double(-0.0); }) == "$2\r\n-0\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Double(std::numeric_limits<double>::infinity()); }) ==
        "$3\r\ninf\r\n");
  CHECK(Wire(2, [](Reply& r) { r.Double(123456789.123); }) == "$13\r\n123456789.123\r\n");
}

TEST_CASE("errors", "[reply]") {
  std::string buf;
  Reply r(&buf, 2);
  r.Error("syntax error");
  CHECK(buf == "-ERR syntax error\r\n");
  CHECK(r.errors() == 1);
  CHECK(r.last_error() == "ERR syntax error");
  buf.clear();
  r.Error("-WRONGTYPE Operation against a key holding the wrong kind of value");
  CHECK(buf == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
  CHECK(r.errors() == 2);
  buf.clear();
  r.Error("bad\r\nthing\n");
  CHECK(buf == "-ERR bad  thing \r\n");  // CR/LF cannot break the protocol
  buf.clear();
  r.ErrorFormat("unknown command '%s', with args beginning with: ", "foo");
  CHECK(buf == "-ERR unknown command 'foo', with args beginning with: \r\n");
  buf.clear();
  r.ErrorFormat("no placeholder", "x");
  CHECK(buf == "-ERR no placeholder\r\n");
  CHECK(r.errors() == 5);
  // RESP3 errors look the same.
  CHECK(Wire(3, [](Reply& x) { x.Error("e"); }) == "-ERR e\r\n");
}

TEST_CASE("deferred lengths", "[reply]") {
  for (int proto : {2, 3}) {
    std::string buf;
    Reply r(&buf, proto);
    r.Array(2);
    size_t h = r.BeginDeferred();
    r.Bulk("a");
    r.Bulk("b");
    r.EndDeferredArray(h, 2);
    size_t m = r.BeginDeferred();
    r.Bulk("k");
    r.Int(1);
    r.EndDeferredMap(m, 1);
    if (proto == 2)
      CHECK(buf == "*2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$1\r\nk\r\n:1\r\n");
    else
      CHECK(buf == "*2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n%1\r\n$1\r\nk\r\n:1\r\n");
    buf.clear();
    size_t s = r.BeginDeferred();
    r.EndDeferredSet(s, 0);
    CHECK(buf == (proto == 2 ? "*0\r\n" : "~0\r\n"));
  }
}

TEST_CASE("protocol can be switched mid-connection (HELLO)", "[reply]") {
  std::string buf;
  Reply r(&buf, 2);
  r.Null();
  r.set_proto(3);
  CHECK(r.proto() == 3);
  r.Null();
  CHECK(buf == "$-1\r\n_\r\n");
  std::string other;
  r.set_buffer(&other);
  r.Ok();
  CHECK(other == "+OK\r\n");
  CHECK(r.buffer() == &other);
}
