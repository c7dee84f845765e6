// Number <-> string conversions with Redis's exact strictness and formatting
// (string2ll, string2d, ld2string ...), plus glob matching as Redis's stringmatchlen.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::base {

// Strict integer parse: no spaces, no '+', no leading zeros, no "-0", no overflow.
bool ParseInt64(std::string_view s, int64_t* out);
// Strict double parse (Redis string2d): "inf" allowed, NaN and spaces refused.
bool ParseDouble(std::string_view s, double* out);
// Strict long double parse (Redis string2ld), used by INCRBYFLOAT.
bool ParseLongDouble(std::string_view s, long double* out);

// Appends the decimal form of v to out; returns the number of chars written.
size_t AppendInt64(std::string* out, int64_t v);
std::string Int64ToString(int64_t v);
// Writes the decimal form into buf (>= 21 bytes), returns the length.
size_t FormatInt64(char* buf, int64_t v);

// "%.17g" with "inf"/"-inf" (Redis addReplyDouble, RESP2 and RESP3).
std::string FormatDouble(double d);
// "%.17Lf" with trailing zeros removed (Redis ld2string LD_STR_HUMAN).
std::string FormatLongDoubleHuman(long double v);

// Glob-style match as Redis's stringmatchlen: * ? [abc] [^a] [a-z] and \ escapes.
bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase = false);

// ASCII case-insensitive equality, for command names and options.
bool EqualsNoCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view s);

// Size with units as redis.conf accepts: 1k=1000, 1kb=1024, 1m, 1mb, 1g, 1gb.
bool ParseMemory(std::string_view s, int64_t* out);

}  // namespace cairn::base
