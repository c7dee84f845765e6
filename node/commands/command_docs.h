// Command documentation derived from the command table: the parser that turns a
// CommandSpec's Redis-doc-style syntax line into COMMAND DOCS argument trees, and
// the key specs (range, keynum, keyword) that COMMAND INFO and GETKEYS use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "node/commands/command.h"

namespace cairn::cmd::docs {

enum class ArgType {
  kString,
  kInteger,
  kDouble,
  kKey,
  kPattern,
  kUnixTime,
  kPureToken,
  kOneOf,
  kBlock
};

enum ArgFlag : uint32_t {
  kArgOptional = 1u << 0,       // "optional"
  kArgMultiple = 1u << 1,       // "multiple"
  kArgMultipleToken = 1u << 2,  // "multiple_token": the token repeats with each value
};

// One argument as COMMAND DOCS describes it.
struct Arg {
  std::string name;
  ArgType type = ArgType::kString;
  std::string token;        // "" = none
  uint32_t flags = 0;       // ArgFlag bits
  int key_spec_index = -1;  // for key arguments: which key spec finds them
  std::vector<Arg> args;    // oneof alternatives / block members
};

// "string", "pure-token", "oneof" ... as Redis names the types.
std::string_view ArgTypeName(ArgType t);

// Parses a syntax line such as "key [NX | XX] [LIMIT offset count] member [member ...]".
// Conventions: [..] optional, <..> / (..) grouping, "a | b" alternatives of the
// enclosing group, "a|b" (no spaces) alternatives of adjacent items, "x [x ...]"
// repetition, upper-case words are tokens. On a malformed line returns false with
// a description in *error and leaves *out empty.
bool ParseSyntax(std::string_view syntax, std::vector<Arg>* out, std::string* error);

// Renders arguments back into one line the way redis-cli prints a command's
// parameters from COMMAND DOCS ("key value [NX|XX] [GET pattern [GET pattern ...]]").
std::string RenderArgs(const std::vector<Arg>& args);

// A key spec as COMMAND INFO shows it (Redis 7.0).
struct KeySpec {
  enum class Begin { kIndex, kKeyword };
  enum class Find { kRange, kKeynum };
  std::vector<std::string> flags;  // "RW", "update" ...
  Begin begin = Begin::kIndex;
  int index = 0;        // kIndex: argv position of the first key
  std::string keyword;  // kKeyword: the token that precedes the keys
  int startfrom = 0;    // kKeyword: where the search for the token starts
  Find find = Find::kRange;
  int lastkey = 0, keystep = 1, limit = 0;  // kRange
  int keynumidx = 0, firstkey = 1;          // kKeynum (keystep shared)
};

// Everything derived from one CommandSpec, computed once and cached.
struct CommandDocs {
  std::vector<Arg> args;
  std::vector<KeySpec> key_specs;
  bool movable_keys = false;  // keys found by a keynum or keyword spec
};

// Derives the docs of a spec (parses its syntax, builds its key specs). Pure.
CommandDocs BuildDocs(const CommandSpec& spec);
// The cached docs of a spec; the first call for a spec builds them.
const CommandDocs& DocsFor(const CommandSpec& spec);

// A key found in a command line: its argv index (argv[0] = command name) and flags.
struct KeyRef {
  size_t pos;
  const std::vector<std::string>* flags;
};
// Finds the keys of argv (argv[0] = command name) with the key specs, as Redis's
// getKeysUsingKeySpecs: false when a spec points outside the arguments.
bool FindKeys(const CommandDocs& d, const std::vector<std::string_view>& argv,
              std::vector<KeyRef>* out);

}  // namespace cairn::cmd::docs
