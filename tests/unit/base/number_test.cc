// Number parsing and formatting against Redis's rules (string2ll, string2d,
// string2ld, ld2string LD_STR_HUMAN, %.17g doubles), glob matching as
// stringmatchlen, and redis.conf memory units.
#include "node/base/number.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

using namespace cairn::base;

TEST_CASE("ParseInt64 accepts canonical integers only", "[number]") {
  struct Ok {
    const char* s;
    int64_t v;
  };
  for (Ok c :
       {Ok{"0", 0}, Ok{"1", 1}, Ok{"-1", -1}, Ok{"42", 42}, Ok{"9223372036854775807", INT64_MAX},
        Ok{"-9223372036854775808", INT64_MIN}, Ok{"1000000000000", 1000000000000LL}}) {
    int64_t v = 12345;
    INFO(c.s);
    REQUIRE(ParseInt64(c.s, &v));
    CHECK(v == c.v);
  }
  for (const char* bad : {"",
                          "-",
                          "-0",
                          "00",
                          "01",
                          "+1",
                          " 1",
                          "1 ",
                          "1.0",
                          "1e3",
                          "0x10",
                          "abc",
                          "1a",
                          "9223372036854775808",
                          "-9223372036854775809",
                          "18446744073709551616",
                          "99999999999999999999",
                          "123456789012345678901",
                          "--1",
                          "\t1"}) {
    int64_t v = 7;
    INFO("'" << bad << "'");
    CHECK_FALSE(ParseInt64(bad, &v));
  }
  int64_t v;
  CHECK_FALSE(ParseInt64(std::string_view("1\0", 2), &v));
}

TEST_CASE("ParseDouble follows string2d", "[number]") {
  double d = 0;
  REQUIRE(ParseDouble("1.5", &d));
  CHECK(d == 1.5);
  REQUIRE(ParseDouble("-0.25", &d));
  CHECK(d == -0.25);
  REQUIRE(ParseDouble(".5", &d));
  CHECK(d == 0.5);
  REQUIRE(ParseDouble("5.", &d));
  CHECK(d == 5.0);
  REQUIRE(ParseDouble("1e3", &d));
  CHECK(d == 1000.0);
  REQUIRE(ParseDouble("+2", &d));
  CHECK(d == 2.0);
  REQUIRE(ParseDouble("inf", &d));
  CHECK(std::isinf(d));
  CHECK(d > 0);
  REQUIRE(ParseDouble("-inf", &d));
  CHECK(d < 0);
  REQUIRE(ParseDouble("+inf", &d));
  CHECK(d > 0);
  REQUIRE(ParseDouble("0x10", &d));  // strtod accepts hex, and so does Redis
  CHECK(d == 16.0);
  for (const char* bad :
       {"", " 1", "1 ", "abc", "1.5x", "nan", "-nan", "1e400", "-1e400", "1e-400", "\t1", "1,5"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(ParseDouble(bad, &d));
  }
  CHECK_FALSE(ParseDouble(std::string_view("1\0", 2), &d));
  CHECK_FALSE(ParseDouble(std::string(6000, '1'), &d));
}

TEST_CASE("ParseLongDouble follows string2ld", "[number]") {
  long double d = 0;
  REQUIRE(ParseLongDouble("10.5", &d));
  CHECK(d == 10.5L);
  REQUIRE(ParseLongDouble("1e4000", &d));  // in range for long double
  CHECK(std::isfinite(d));
  for (const char* bad : {"", " 1", "1 ", "nan", "abc", "1e99999"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(ParseLongDouble(bad, &d));
  }
}

TEST_CASE("integer formatting", "[number]") {
  CHECK(Int64ToString(0) == "0");
  CHECK(Int64ToString(-1) == "-1");
  CHECK(Int64ToString(INT64_MAX) == "9223372036854775807");
  CHECK(Int64ToString(INT64_MIN) == "-9223372036854775808");
  std::string s = "x=";
  CHECK(AppendInt64(&s, -305) == 4);
  CHECK(s == "x=-305");
  char buf[24];
  CHECK(std::string(buf, FormatInt64(buf, 1234567890123LL)) == "1234567890123");
  // Round trip over a spread of magnitudes.
  for (int64_t v = 1; v < INT64_MAX / 7; v *= 7) {
    for (int64_t x : {v, -v, v - 1, -v + 1}) {
      int64_t back;
      REQUIRE(ParseInt64(Int64ToString(x), &back));
      REQUIRE(back == x);
    }
  }
}

TEST_CASE("FormatDouble is %.17g with Redis's inf", "[number]") {
  CHECK(FormatDouble(0) == "0");
  CHECK(FormatDouble(-0.0) == "-0");
  CHECK(FormatDouble(1.5) == "1.5");
  CHECK(FormatDouble(3) == "3");
  CHECK(FormatDouble(0.1) == "0.10000000000000001");
  CHECK(FormatDouble(1e300) == "1.0000000000000001e+300");
  CHECK(FormatDouble(1e17) == "1e+17");
  CHECK(FormatDouble(123456789012345678.0) == "1.2345678901234568e+17");
  CHECK(FormatDouble(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(FormatDouble(-std::numeric_limits<double>::infinity()) == "-inf");
}

TEST_CASE("FormatLongDoubleHuman matches INCRBYFLOAT output", "[number]") {
  CHECK(FormatLongDoubleHuman(3.0L) == "3");
  CHECK(FormatLongDoubleHuman(10.5L) == "10.5");
  CHECK(FormatLongDoubleHuman(-0.0L) == "0");
  CHECK(FormatLongDoubleHuman(0.0L) == "0");
  CHECK(FormatLongDoubleHuman(1e17L) == "100000000000000000");
  CHECK(FormatLongDoubleHuman(-1.25L) == "-1.25");
  long double v;
  REQUIRE(ParseLongDouble("10.6", &v));
  CHECK(FormatLongDoubleHuman(v) == "10.6");
  REQUIRE(ParseLongDouble("3.0e3", &v));
  CHECK(FormatLongDoubleHuman(v) == "3000");
  REQUIRE(ParseLongDouble("5.0e-3", &v));
  CHECK(FormatLongDoubleHuman(v) == "0.005");
  // 17 fractional digits at most: smaller values round to 0.
  CHECK(FormatLongDoubleHuman(1e-20L) == "0");
  CHECK(FormatLongDoubleHuman(std::numeric_limits<long double>::infinity()) == "inf");
  CHECK(FormatLongDoubleHuman(-std::numeric_limits<long double>::infinity()) == "-inf");
}

// Note: stringmatchlen("*", "") is false; KEYS and SCAN special-case a lone "*"
// before matching, which is why an empty key still shows up in KEYS *.
TEST_CASE("GlobMatch follows stringmatchlen", "[number]") {
  struct Case {
    const char* p;
    const char* s;
    bool m;
  };
  for (Case c : {Case{"*", "", false},
                 Case{"*", "anything", true},
                 Case{"", "", true},
                 Case{"", "a", false},
                 Case{"a*", "", false},
                 Case{"h?llo", "hello", true},
                 Case{"h?llo", "hllo", false},
                 Case{"h*llo", "heeeello", true},
                 Case{"h[ae]llo", "hallo", true},
                 Case{"h[ae]llo", "hillo", false},
                 Case{"h[^e]llo", "hallo", true},
                 Case{"h[^e]llo", "hello", false},
                 Case{"h[a-b]llo", "hbllo", true},
                 Case{"h[a-b]llo", "hcllo", false},
                 Case{"h[b-a]llo", "hallo", true},  // reversed ranges work
                 Case{"\\*", "*", true},
                 Case{"\\*", "a", false},
                 Case{"a\\?c", "a?c", true},
                 Case{"[\\]]", "]", true},
                 Case{"*a*b*", "xxaxxbxx", true},
                 Case{"*a*b*", "xxbxxaxx", false},
                 Case{"user:*:name", "user:42:name", true},
                 Case{"[abc", "a", true},
                 Case{"**", "x", true},
                 Case{"a*", "a", true}}) {
    INFO("pattern '" << c.p << "' string '" << c.s << "'");
    CHECK(GlobMatch(c.p, c.s) == c.m);
  }
  CHECK(GlobMatch("HELLO*", "hello world", true));
  CHECK_FALSE(GlobMatch("HELLO*", "hello world", false));
  CHECK(GlobMatch("h[A-C]llo", "hbllo", true));
  // A pathological pattern must finish quickly (Redis bounds this too).
  std::string pat;
  for (int i = 0; i < 30; i++) pat += "a*";
  pat += "b";
  CHECK_FALSE(GlobMatch(pat, std::string(60, 'a')));
}

TEST_CASE("case helpers", "[number]") {
  CHECK(EqualsNoCase("GeT", "get"));
  CHECK_FALSE(EqualsNoCase("get", "gets"));
  CHECK_FALSE(EqualsNoCase("get", "gex"));
  CHECK(ToLower("SeT ÄB") == "set Äb");
}

TEST_CASE("ParseMemory units as redis.conf", "[number]") {
  struct Case {
    const char* s;
    int64_t v;
  };
  for (Case c : {Case{"0", 0}, Case{"100", 100}, Case{"1k", 1000}, Case{"1kb", 1024},
                 Case{"1m", 1000000}, Case{"1mb", 1048576}, Case{"1g", 1000000000},
                 Case{"1gb", 1073741824}, Case{"2GB", 2147483648LL}, Case{"10Mb", 10485760}}) {
    int64_t v = -1;
    INFO(c.s);
    REQUIRE(ParseMemory(c.s, &v));
    CHECK(v == c.v);
  }
  int64_t v;
  for (const char* bad : {"", "abc", "1x", "1kbb", "k"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(ParseMemory(bad, &v));
  }
}
