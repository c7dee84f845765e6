// Redis-compatible numeric parsing/formatting and glob matching.
#include "node/base/number.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cairn::base {

bool ParseInt64(std::string_view s, int64_t* out) {
  size_t n = s.size();
  if (n == 0 || n > 20) return false;
  const char* p = s.data();
  if (n == 1 && p[0] == '0') {
    *out = 0;
    return true;
  }
  bool neg = false;
  size_t i = 0;
  if (p[0] == '-') {
    neg = true;
    i = 1;
    if (n == 1) return false;
  }
  if (p[i] < '1' || p[i] > '9') return false;
  uint64_t v = 0;
  for (; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    uint64_t d = p[i] - '0';
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty() || s.size() > 5 * 1024 || std::isspace(static_cast<unsigned char>(s[0])))
    return false;
  char buf[5 * 1024 + 1];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(buf, &end);
  if (static_cast<size_t>(end - buf) != s.size()) return false;
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || std::fpclassify(v) == FP_ZERO))
    return false;
  if (std::isnan(v)) return false;
  *out = v;
  return true;
}

bool ParseLongDouble(std::string_view s, long double* out) {
  if (s.empty() || s.size() >= 5 * 1024 || std::isspace(static_cast<unsigned char>(s[0])))
    return false;
  char buf[5 * 1024];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  errno = 0;
  char* end = nullptr;
  long double v = std::strtold(buf, &end);
  if (static_cast<size_t>(end - buf) != s.size()) return false;
  if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || std::fpclassify(v) == FP_ZERO))
    return false;
  if (errno == EINVAL || std::isnan(v)) return false;
  *out = v;
  return true;
}

size_t FormatInt64(char* buf, int64_t v) {
  if (v >= 0 && v < 10) {  // lengths and counts in replies: the common case
    buf[0] = static_cast<char>('0' + v);
    return 1;
  }
  char tmp[24];
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  size_t len = 0;
  if (v < 0) buf[len++] = '-';
  while (n) buf[len++] = tmp[--n];
  return len;
}

size_t AppendInt64(std::string* out, int64_t v) {
  char buf[24];
  size_t n = FormatInt64(buf, v);
  out->append(buf, n);
  return n;
}

std::string Int64ToString(int64_t v) {
  std::string s;
  AppendInt64(&s, v);
  return s;
}

std::string FormatDouble(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", d);
  return std::string(buf, n);
}

std::string FormatLongDoubleHuman(long double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[5 * 1024 + 64];
  int n = std::snprintf(buf, sizeof(buf), "%.17Lf", v);
  if (n < 0 || static_cast<size_t>(n) >= sizeof(buf)) return "0";
  size_t l = n;
  if (std::memchr(buf, '.', l) != nullptr) {
    while (l > 0 && buf[l - 1] == '0') l--;
    if (l > 0 && buf[l - 1] == '.') l--;
  }
  if (l == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, l);
}

namespace {

char Fold(char c, bool nocase) {
  return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

// Recursive matcher with a nesting bound, like Redis's (which guards against
// patterns that would take exponential time).
bool Match(const char* p, size_t plen, const char* s, size_t slen, bool nocase, bool* skip,
           int nesting) {
  if (nesting > 1000) return false;
  while (plen && slen) {
    switch (p[0]) {
      case '*': {
        while (plen > 1 && p[1] == '*') {
          p++;
          plen--;
        }
        if (plen == 1) return true;
        while (slen) {
          if (Match(p + 1, plen - 1, s, slen, nocase, skip, nesting + 1)) return true;
          if (*skip) return false;
          s++;
          slen--;
        }
        *skip = true;
        return false;
      }
      case '?':
        s++;
        slen--;
        break;
      case '[': {
        p++;
        plen--;
        bool negate = plen && p[0] == '^';
        if (negate) {
          p++;
          plen--;
        }
        bool match = false;
        while (true) {
          if (plen == 0) {
            // Unterminated class: Redis backs up one so the loop below ends it.
            break;
          }
          if (p[0] == '\\' && plen >= 2) {
            p++;
            plen--;
            if (p[0] == s[0]) match = true;
          } else if (p[0] == ']') {
            break;
          } else if (plen >= 3 && p[1] == '-') {
            int start = static_cast<unsigned char>(Fold(p[0], nocase));
            int end = static_cast<unsigned char>(Fold(p[2], nocase));
            int c = static_cast<unsigned char>(Fold(s[0], nocase));
            if (start > end) std::swap(start, end);
            p += 2;
            plen -= 2;
            if (c >= start && c <= end) match = true;
          } else if (Fold(p[0], nocase) == Fold(s[0], nocase)) {
            match = true;
          }
          p++;
          plen--;
        }
        if (plen == 0) {
          // Pattern ended inside the class: treat the last char as the end.
          p--;
          plen++;
        }
        if (negate) match = !match;
        if (!match) return false;
        s++;
        slen--;
        break;
      }
      case '\\':
        if (plen >= 2) {
          p++;
          plen--;
        }
        [[fallthrough]];
      default:
        if (Fold(p[0], nocase) != Fold(s[0], nocase)) return false;
        s++;
        slen--;
        break;
    }
    p++;
    plen--;
    if (slen == 0) {
      while (plen && *p == '*') {
        p++;
        plen--;
      }
      break;
    }
  }
  return plen == 0 && slen == 0;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase) {
  bool skip = false;
  return Match(pattern.data(), pattern.size(), str.data(), str.size(), nocase, &skip, 0);
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string ToLower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool ParseMemory(std::string_view s, int64_t* out) {
  std::string lower = ToLower(s);
  int64_t mul = 1;
  size_t digits = lower.size();
  struct Unit {
    const char* suffix;
    int64_t mul;
  };
  static const Unit kUnits[] = {{"gb", 1024LL * 1024 * 1024},
                                {"mb", 1024LL * 1024},
                                {"kb", 1024},
                                {"g", 1000LL * 1000 * 1000},
                                {"m", 1000LL * 1000},
                                {"k", 1000},
                                {"b", 1}};
  for (const auto& u : kUnits) {
    size_t l = std::strlen(u.suffix);
    if (lower.size() > l && lower.compare(lower.size() - l, l, u.suffix) == 0) {
      mul = u.mul;
      digits = lower.size() - l;
      break;
    }
  }
  int64_t v;
  if (!ParseInt64(std::string_view(lower).substr(0, digits), &v)) return false;
  if (v < 0 || (mul > 1 && v > INT64_MAX / mul)) return false;
  *out = v * mul;
  return true;
}

}  // namespace cairn::base
