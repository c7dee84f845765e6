// Syntax-line parser for COMMAND DOCS and key-spec derivation for COMMAND INFO /
// GETKEYS. The parser works in two steps: a raw tree of words, groups and
// alternatives (mirroring the brackets of the line), then a conversion into Redis
// 7.0's argument model (tokens attached to their values, repetitions folded into
// "multiple" flags, groups into blocks and oneofs).
#include "node/commands/command_docs.h"

#include <algorithm>
#include <unordered_map>

#include "node/base/log.h"
#include "node/base/number.h"

namespace cairn::cmd::docs {

namespace {

constexpr int kMaxDepth = 32;

// ---- tokenizer --------------------------------------------------------------

enum class Tok { kWord, kOpen, kClose, kBar, kEllipsis, kEnd };

struct Token {
  Tok kind;
  std::string text;    // word text, or the bracket character
  bool tight = false;  // kBar: no space on either side ("a|b")
};

bool IsSpecial(char c) {
  return c == '[' || c == ']' || c == '<' || c == '>' || c == '(' || c == ')' || c == '|';
}

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  bool space_before = true;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space_before = true;
      i++;
      continue;
    }
    if (s.compare(i, 3, "...") == 0) {
      out.push_back({Tok::kEllipsis, "...", false});
      i += 3;
    } else if (c == '|') {
      bool space_after = i + 1 >= s.size() || s[i + 1] == ' ' || s[i + 1] == '\t';
      out.push_back({Tok::kBar, "|", !space_before && !space_after});
      i++;
    } else if (c == '[' || c == '<' || c == '(') {
      out.push_back({Tok::kOpen, std::string(1, c), false});
      i++;
    } else if (c == ']' || c == '>' || c == ')') {
      out.push_back({Tok::kClose, std::string(1, c), false});
      i++;
    } else {
      size_t start = i;
      while (i < s.size() && !IsSpecial(s[i]) && s[i] != ' ' && s[i] != '\t' &&
             s.compare(i, 3, "...") != 0)
        i++;
      out.push_back({Tok::kWord, std::string(s.substr(start, i - start)), false});
    }
    space_before = false;
  }
  out.push_back({Tok::kEnd, "", false});
  return out;
}

// ---- raw tree ---------------------------------------------------------------

enum class Kind { kWord, kSeq, kOneOf, kGroup, kEllipsis, kMulti };

struct Node {
  Kind kind;
  std::string text;        // kWord
  std::vector<Node> kids;  // kSeq items, kOneOf alternatives, kGroup content (1), kMulti items
  bool optional = false;   // kGroup from [..], kMulti from an unmatched [x ...]
  bool repeat = false;     // kGroup ending in "..."
};

Node MakeNode(Kind k, std::vector<Node> kids = {}) {
  Node n;
  n.kind = k;
  n.kids = std::move(kids);
  return n;
}

char Closer(const std::string& open) { return open == "[" ? ']' : open == "<" ? '>' : ')'; }

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  bool Run(Node* root, std::string* error) {
    *root = ParseAlts(0);
    if (error_.empty() && Peek().kind != Tok::kEnd) Fail("unexpected '" + Peek().text + "'");
    *error = error_;
    return error_.empty();
  }

 private:
  const Token& Peek() const { return toks_[pos_]; }
  // Whether a bar joins the items beside it rather than the sequences of its
  // group: always for "a|b"; for "a | b" only outside any brackets, where
  // "numkeys key [key ...] MIN | MAX" means a choice of one word.
  static bool Binds(const Token& bar, int depth) { return bar.tight || depth == 0; }
  void Fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
  }

  // Alternatives separated by spaced bars, up to the group's closer (or the end).
  Node ParseAlts(int depth) {
    std::vector<Node> alts;
    alts.push_back(ParseSeq(depth));
    while (error_.empty() && Peek().kind == Tok::kBar && !Peek().tight) {
      pos_++;
      alts.push_back(ParseSeq(depth));
    }
    if (alts.size() == 1) return std::move(alts[0]);
    // "a | b | c [a | b | c ...]": the repetition belongs to the whole choice.
    Node& last = alts.back();
    if (!last.kids.empty() && last.kids.back().kind == Kind::kGroup && last.kids.back().repeat &&
        last.kids.back().kids[0].kind == Kind::kOneOf && last.kids.size() > 1) {
      Node rep = std::move(last.kids.back());
      last.kids.pop_back();
      return MakeNode(Kind::kSeq, {MakeNode(Kind::kOneOf, std::move(alts)), std::move(rep)});
    }
    return MakeNode(Kind::kOneOf, std::move(alts));
  }

  Node ParseSeq(int depth) {
    Node seq = MakeNode(Kind::kSeq);
    while (error_.empty()) {
      const Token& t = Peek();
      if (t.kind == Tok::kEnd || t.kind == Tok::kClose || (t.kind == Tok::kBar && !Binds(t, depth)))
        break;
      if (t.kind == Tok::kEllipsis) {
        pos_++;
        seq.kids.push_back(MakeNode(Kind::kEllipsis));
        continue;
      }
      seq.kids.push_back(ParseTight(depth));
    }
    if (seq.kids.empty()) Fail("empty group or alternative");
    return seq;
  }

  Node ParseTight(int depth) {
    Node first = ParsePrimary(depth);
    if (Peek().kind != Tok::kBar || !Binds(Peek(), depth)) return first;
    Node alts = MakeNode(Kind::kOneOf, {std::move(first)});
    while (error_.empty() && Peek().kind == Tok::kBar && Binds(Peek(), depth)) {
      pos_++;
      alts.kids.push_back(ParsePrimary(depth));
    }
    return alts;
  }

  Node ParsePrimary(int depth) {
    const Token& t = Peek();
    if (t.kind == Tok::kWord) {
      Node w = MakeNode(Kind::kWord);
      w.text = t.text;
      pos_++;
      return w;
    }
    if (t.kind != Tok::kOpen) {
      Fail("unexpected '" + t.text + "'");
      return MakeNode(Kind::kWord);
    }
    if (depth >= kMaxDepth) {
      Fail("nesting too deep");
      return MakeNode(Kind::kWord);
    }
    std::string open = t.text;
    pos_++;
    Node content = ParseAlts(depth + 1);
    if (!error_.empty()) return content;
    if (Peek().kind != Tok::kClose || Peek().text[0] != Closer(open)) {
      Fail("'" + open + "' is not closed");
      return content;
    }
    pos_++;
    Node g = MakeNode(Kind::kGroup);
    g.optional = open == "[";
    // A trailing "..." marks the group as the repetition of what precedes it.
    Node* tail = &content;
    if (tail->kind == Kind::kOneOf) tail = &tail->kids.back();
    if (tail->kind == Kind::kSeq && tail->kids.size() > 1 &&
        tail->kids.back().kind == Kind::kEllipsis) {
      tail->kids.pop_back();
      g.repeat = true;
    }
    g.kids.push_back(std::move(content));
    return g;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  std::string error_;
};

// Canonical text of a raw node, for structural comparison of repetitions.
std::string Canon(const Node& n) {
  std::string s;
  switch (n.kind) {
    case Kind::kWord:
      return n.text;
    case Kind::kEllipsis:
      return "...";
    case Kind::kSeq:
      if (n.kids.size() == 1) return Canon(n.kids[0]);
      for (const Node& k : n.kids) s += (s.empty() ? "" : " ") + Canon(k);
      return "(" + s + ")";
    case Kind::kOneOf:
      for (const Node& k : n.kids) s += (s.empty() ? "" : "|") + Canon(k);
      return "{" + s + "}";
    case Kind::kGroup:
      if (!n.optional && !n.repeat) return Canon(n.kids[0]);
      return std::string(n.optional ? "[" : "<") + Canon(n.kids[0]) + (n.repeat ? " ..." : "") +
             (n.optional ? "]" : ">");
    case Kind::kMulti:
      for (const Node& k : n.kids) s += " " + Canon(k);
      return "M(" + s + ")";
  }
  return s;
}

// Items of a node seen as a sequence.
std::vector<Node> Items(const Node& n) {
  if (n.kind == Kind::kSeq) return n.kids;
  if (n.kind == Kind::kGroup && !n.optional && !n.repeat) return Items(n.kids[0]);
  return {n};
}

bool SameItems(const std::vector<Node>& a, size_t from, const std::vector<Node>& b) {
  for (size_t i = 0; i < b.size(); i++) {
    if (Canon(a[from + i]) != Canon(b[i])) return false;
  }
  return true;
}

// Folds "x y [x y ...]" (and "x ...") into multiple-items nodes.
std::vector<Node> Collapse(const std::vector<Node>& items) {
  std::vector<Node> out;
  for (const Node& item : items) {
    if (item.kind == Kind::kEllipsis) {
      if (!out.empty()) out.back() = MakeNode(Kind::kMulti, {out.back()});
      continue;
    }
    if (item.kind != Kind::kGroup || !item.repeat) {
      out.push_back(item);
      continue;
    }
    std::vector<Node> rep = Items(item.kids[0]);
    size_t n = rep.size();
    if (out.size() >= n && SameItems(out, out.size() - n, rep)) {
      out.resize(out.size() - n);
      out.push_back(MakeNode(Kind::kMulti, rep));
      continue;
    }
    // "a|b|c [b|c ...]": the repetition covers the last alternatives only.
    if (n == 1 && rep[0].kind == Kind::kOneOf && !out.empty() && out.back().kind == Kind::kOneOf &&
        out.back().kids.size() > rep[0].kids.size()) {
      std::vector<Node>& alts = out.back().kids;
      size_t k = rep[0].kids.size(), off = alts.size() - k;
      if (SameItems(alts, off, rep[0].kids)) {
        Node suffix = MakeNode(Kind::kOneOf, std::vector<Node>(alts.begin() + off, alts.end()));
        alts.resize(off);
        alts.push_back(MakeNode(Kind::kMulti, {std::move(suffix)}));
        continue;
      }
    }
    Node m = MakeNode(Kind::kMulti, rep);
    m.optional = true;
    out.push_back(std::move(m));
  }
  return out;
}

// ---- conversion into arguments ---------------------------------------------

bool IsTokenWord(const Node& n) {
  if (n.kind != Kind::kWord || n.text.empty()) return false;
  return std::none_of(n.text.begin(), n.text.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

ArgType TypeForName(const std::string& name) {
  static const char* const kKeys[] = {"key",       "destination", "source", "newkey", "destkey",
                                      "sourcekey", "src",         "dst",    "key1",   "key2"};
  static const char* const kDoubles[] = {"score", "latitude", "longitude", "radius",
                                         "width", "height",   "timeout"};
  static const char* const kIntegers[] = {
      "count",     "cursor",    "offset",         "start",       "stop",        "end",
      "index",     "index1",    "index2",         "numkeys",     "rank",        "len",
      "limit",     "seconds",   "milliseconds",   "ms",          "port",        "db",
      "weight",    "client-id", "destination-db", "numreplicas", "num-matches", "increment",
      "decrement", "ttl",       "slot",           "bit",         "bits",        "frequency",
      "version",   "protover",  "quorum",         "start-slot",  "end-slot",    "maxlen"};
  for (const char* k : kKeys)
    if (name == k) return ArgType::kKey;
  if (name.rfind("unix-time", 0) == 0) return ArgType::kUnixTime;
  if (name.find("pattern") != std::string::npos) return ArgType::kPattern;
  for (const char* k : kDoubles)
    if (name == k) return ArgType::kDouble;
  for (const char* k : kIntegers)
    if (name == k) return ArgType::kInteger;
  return ArgType::kString;
}

std::string JoinNames(const std::vector<Arg>& args) {
  std::string s;
  for (const Arg& a : args) s += (s.empty() ? "" : "_") + a.name;
  return s;
}

Arg ToArg(const Node& n);
Arg GroupArg(const Node& n);

// A value that a preceding token can be attached to ("COUNT count").
bool Attachable(const Arg& a) {
  return a.token.empty() && a.type != ArgType::kPureToken && (a.flags & kArgOptional) == 0;
}

// Arguments of a sequence: a token followed by a value becomes one argument.
std::vector<Arg> SeqArgs(const std::vector<Node>& items) {
  std::vector<Arg> out;
  for (size_t i = 0; i < items.size(); i++) {
    if (IsTokenWord(items[i]) && i + 1 < items.size() && !IsTokenWord(items[i + 1])) {
      Arg v = ToArg(items[i + 1]);
      if (Attachable(v)) {
        v.token = items[i].text;
        out.push_back(std::move(v));
        i++;
        continue;
      }
    }
    out.push_back(ToArg(items[i]));
  }
  return out;
}

// The argument a group's content stands for.
Arg GroupArg(const Node& n) {
  if (n.kind != Kind::kSeq) return ToArg(n);
  std::vector<Node> items = Collapse(n.kids);
  if (items.size() == 1) return ToArg(items[0]);
  Arg a;
  a.type = ArgType::kBlock;
  if (IsTokenWord(items[0])) {
    if (items.size() == 2 && !IsTokenWord(items[1])) {
      Arg v = ToArg(items[1]);
      if (Attachable(v)) {
        v.token = items[0].text;
        return v;
      }
    }
    a.token = items[0].text;
    a.name = base::ToLower(a.token);
    a.args = SeqArgs(std::vector<Node>(items.begin() + 1, items.end()));
    return a;
  }
  a.args = SeqArgs(items);
  a.name = JoinNames(a.args);
  return a;
}

Arg ToArg(const Node& n) {
  Arg a;
  switch (n.kind) {
    case Kind::kWord:
      if (IsTokenWord(n)) {
        a.type = ArgType::kPureToken;
        a.token = n.text;
        a.name = base::ToLower(n.text);
      } else {
        a.name = n.text;
        a.type = TypeForName(n.text);
      }
      return a;
    case Kind::kOneOf:
      a.type = ArgType::kOneOf;
      for (const Node& alt : n.kids) a.args.push_back(GroupArg(alt));
      a.name = JoinNames(a.args);
      return a;
    case Kind::kGroup:
      a = GroupArg(n.kids[0]);
      if (n.optional) a.flags |= kArgOptional;
      return a;
    case Kind::kMulti:
      a = GroupArg(MakeNode(Kind::kSeq, n.kids));
      a.flags |= kArgMultiple;
      if (n.kids.size() > 1 && IsTokenWord(n.kids[0]) && !a.token.empty())
        a.flags |= kArgMultipleToken;
      if (n.optional) a.flags |= kArgOptional;
      return a;
    case Kind::kSeq:
      return GroupArg(n);
    case Kind::kEllipsis:
      break;
  }
  a.name = "...";
  return a;
}

void RenderArg(const Arg& a, std::string* out) {
  std::string token_part = a.token;
  std::string repeat;
  switch (a.type) {
    case ArgType::kOneOf:
    case ArgType::kBlock: {
      const char* sep = a.type == ArgType::kOneOf ? "|" : " ";
      for (size_t i = 0; i < a.args.size(); i++) {
        if (i) repeat += sep;
        RenderArg(a.args[i], &repeat);
      }
      break;
    }
    case ArgType::kPureToken:
      break;
    default:
      repeat = a.name;
  }
  if (!token_part.empty() && a.type != ArgType::kPureToken) token_part += " ";
  if (a.flags & kArgOptional) *out += "[";
  *out += token_part + repeat;
  if (a.flags & kArgMultiple) {
    *out += " [";
    if (a.flags & kArgMultipleToken) *out += token_part;
    *out += repeat + " ...]";
  }
  if (a.flags & kArgOptional) *out += "]";
}

// ---- key specs -----------------------------------------------------------------

std::vector<std::string> KeyFlagsFor(const CommandSpec& spec) {
  if (spec.is(kWrite)) return {"RW", "update"};
  return {"RO", "access"};
}

// True when an argument always takes exactly one argv slot.
bool SingleSlot(const Arg& a) {
  if (a.flags & (kArgOptional | kArgMultiple)) return false;
  if (!a.token.empty() && a.type != ArgType::kPureToken) return false;
  if (a.type == ArgType::kBlock) return false;
  if (a.type == ArgType::kOneOf) {
    return std::all_of(a.args.begin(), a.args.end(), [](const Arg& x) { return SingleSlot(x); });
  }
  return true;
}

void AddDerivedKeySpecs(const CommandSpec& spec, CommandDocs* d) {
  std::vector<std::string> flags = KeyFlagsFor(spec);
  int range_spec = -1;
  if (spec.first_key > 0) {
    KeySpec ks;
    ks.flags = flags;
    ks.index = spec.first_key;
    ks.lastkey = spec.last_key >= 0 ? spec.last_key - spec.first_key : spec.last_key;
    ks.keystep = spec.key_step > 0 ? spec.key_step : 1;
    range_spec = 0;
    d->key_specs.push_back(std::move(ks));
  }
  // Walk the fixed-position prefix of the top-level arguments.
  std::vector<Arg>& args = d->args;
  int pos = 1;
  size_t i = 0;
  for (; i < args.size(); i++) {
    if (args[i].name == "numkeys" && args[i].token.empty() && i + 1 < args.size() &&
        args[i + 1].type == ArgType::kKey && (args[i + 1].flags & kArgMultiple)) {
      KeySpec ks;
      ks.flags = flags;
      ks.index = pos;
      ks.find = KeySpec::Find::kKeynum;
      args[i + 1].key_spec_index = static_cast<int>(d->key_specs.size());
      d->key_specs.push_back(std::move(ks));
      d->movable_keys = true;
    }
    if (!SingleSlot(args[i])) break;
    if (args[i].type == ArgType::kKey && args[i].key_spec_index < 0 && range_spec >= 0)
      args[i].key_spec_index = range_spec;
    pos++;
  }
  // Keys announced by a token ("STORE destination", "STREAMS key [key ...]").
  for (size_t j = i; j < args.size(); j++) {
    Arg& a = args[j];
    if (a.type != ArgType::kKey || a.key_spec_index >= 0) continue;
    if (a.token.empty()) {
      if (range_spec >= 0) a.key_spec_index = range_spec;
      continue;
    }
    KeySpec ks;
    ks.flags = flags;
    ks.begin = KeySpec::Begin::kKeyword;
    ks.keyword = a.token;
    ks.startfrom = pos;
    if (a.flags & kArgMultiple) {
      ks.lastkey = -1;
      bool paired = j + 1 < args.size() && (args[j + 1].flags & kArgMultiple);
      ks.limit = paired ? 2 : 0;
    }
    a.key_spec_index = static_cast<int>(d->key_specs.size());
    d->key_specs.push_back(std::move(ks));
    d->movable_keys = true;
  }
}

// Strips "CLIENT KILL" from "CLIENT KILL ip:port ..." when a syntax line repeats
// the (upper-case) name; all of the name or nothing, so that "script" stays the
// argument of SCRIPT LOAD.
std::string_view StripName(const CommandSpec& spec, std::string_view syntax) {
  std::string_view rest = syntax;
  std::string_view name = spec.name;
  while (!name.empty()) {
    size_t bar = name.find('|');
    std::string_view part = name.substr(0, bar);
    size_t s = rest.find_first_not_of(' ');
    if (s == std::string_view::npos) return syntax;
    rest.remove_prefix(s);
    std::string_view word = rest.substr(0, rest.find(' '));
    bool upper =
        std::none_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
    if (!upper || !base::EqualsNoCase(word, part)) return syntax;
    rest.remove_prefix(word.size());
    name = bar == std::string_view::npos ? std::string_view() : name.substr(bar + 1);
  }
  return rest;
}

}  // namespace

std::string_view ArgTypeName(ArgType t) {
  switch (t) {
    case ArgType::kString:
      return "string";
    case ArgType::kInteger:
      return "integer";
    case ArgType::kDouble:
      return "double";
    case ArgType::kKey:
      return "key";
    case ArgType::kPattern:
      return "pattern";
    case ArgType::kUnixTime:
      return "unix-time";
    case ArgType::kPureToken:
      return "pure-token";
    case ArgType::kOneOf:
      return "oneof";
    case ArgType::kBlock:
      return "block";
  }
  return "string";
}

bool ParseSyntax(std::string_view syntax, std::vector<Arg>* out, std::string* error) {
  out->clear();
  error->clear();
  if (syntax.find_first_not_of(" \t") == std::string_view::npos) return true;
  Node root;
  Parser p(Tokenize(syntax));
  if (!p.Run(&root, error)) return false;
  if (root.kind == Kind::kSeq) {
    *out = SeqArgs(Collapse(root.kids));
  } else {
    out->push_back(ToArg(root));
  }
  return true;
}

std::string RenderArgs(const std::vector<Arg>& args) {
  std::string s;
  for (size_t i = 0; i < args.size(); i++) {
    if (i) s += " ";
    RenderArg(args[i], &s);
  }
  return s;
}

CommandDocs BuildDocs(const CommandSpec& spec) {
  CommandDocs d;
  std::string error;
  if (!ParseSyntax(StripName(spec, spec.syntax), &d.args, &error)) {
    log::Cmd().warn("COMMAND DOCS: cannot parse the syntax of '{}' ({}): \"{}\"", spec.name, error,
                    spec.syntax);
    d.args.clear();
  }
  AddDerivedKeySpecs(spec, &d);
  return d;
}

const CommandDocs& DocsFor(const CommandSpec& spec) {
  // Keyed by spec; the syntax is kept to notice a spec freed and another
  // allocated at the same address (tables built and dropped in tests).
  struct Cached {
    std::string name, syntax;
    CommandDocs docs;
  };
  static std::unordered_map<const CommandSpec*, Cached> cache;
  auto it = cache.find(&spec);
  if (it == cache.end() || it->second.name != spec.name || it->second.syntax != spec.syntax) {
    Cached c{spec.name, spec.syntax, BuildDocs(spec)};
    it = cache.insert_or_assign(&spec, std::move(c)).first;
  }
  return it->second.docs;
}

bool FindKeys(const CommandDocs& d, const std::vector<std::string_view>& argv,
              std::vector<KeyRef>* out) {
  out->clear();
  int argc = static_cast<int>(argv.size());
  for (const KeySpec& ks : d.key_specs) {
    int first = 0;
    if (ks.begin == KeySpec::Begin::kIndex) {
      first = ks.index;
    } else {
      int from = ks.startfrom > 0 ? ks.startfrom : argc + ks.startfrom;
      for (int i = std::max(from, 1); i < argc; i++) {
        if (base::EqualsNoCase(argv[i], ks.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (first == 0) continue;  // keyword absent: no keys from this spec
    }
    int last = 0, step = ks.keystep;
    if (ks.find == KeySpec::Find::kRange) {
      if (ks.lastkey >= 0) {
        last = first + ks.lastkey;
      } else if (ks.limit == 0) {
        last = argc + ks.lastkey;
      } else {
        last = first + ((argc - first) / ks.limit + ks.lastkey);
      }
    } else {
      int idx = first + ks.keynumidx;
      int64_t numkeys = 0;
      if (idx >= argc || !base::ParseInt64(argv[idx], &numkeys) || numkeys < 0 || numkeys > argc) {
        out->clear();
        return false;
      }
      first += ks.firstkey;
      last = first + static_cast<int>(numkeys) - 1;
    }
    if (last >= argc || last < first || first >= argc || step <= 0) {
      out->clear();
      return false;
    }
    for (int i = first; i <= last; i += step) out->push_back({static_cast<size_t>(i), &ks.flags});
  }
  return true;
}

}  // namespace cairn::cmd::docs
