// Command-line parsing and the `server` subcommand.
#include "node/server/cli.h"

#include <cxxopts.hpp>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "node/base/log.h"
#include "node/commands/command.h"
#include "node/config/config.h"
#include "node/server/server.h"
#include "node/server/snapshot_cli.h"
#include "node/server/tunnel.h"

namespace cairn::server {
namespace {

constexpr const char* kUsage =
    "Usage: cairn <command> [options]\n"
    "\n"
    "Commands:\n"
    "  server [CONFIG] [--directive value ...]\n"
    "                     Run a node. CONFIG is a redis.conf-style file; directives given\n"
    "                     on the command line override it, as with redis-server\n"
    "                     (e.g. cairn server cairn.conf --port 7000 --save \"\").\n"
    "  genkey             Print a new private key (base64), as wg genkey:\n"
    "                     cairn genkey > node.key && chmod 600 node.key\n"
    "  pubkey             Read a private key on stdin, print its public key:\n"
    "                     cairn pubkey < node.key\n"
    "  tunnel ...         Carry any TCP connection through the secure channel, like\n"
    "                     spiped (cairn tunnel --help)\n"
    "  snapshot list|create|verify|prune|restore [-h HOST -p PORT -a PASS | --dir DIR]\n"
    "                     A backup node's snapshots: through the running node over\n"
    "                     RESP, or offline on its snapshot directory with --dir\n"
    "                     (cairn snapshot --help)\n"
    "  promote [--snapshot NAME] [-h HOST -p PORT -a PASS]\n"
    "                     Turn a running backup node into a writable master, from its\n"
    "                     live data or from a snapshot (cairn promote --help)\n"
    "\n"
    "Options:\n"
    "  -h, --help         Show this help (also: cairn <command> --help)\n"
    "  -v, --version      Show the version\n";

constexpr const char* kServerUsage =
    "Usage: cairn server [CONFIG] [--directive value ...]\n"
    "\n"
    "Runs a Cairn node: a Redis-compatible server. CONFIG uses redis.conf syntax\n"
    "(see docs/configuration.md). Every redis.conf directive can also be given on\n"
    "the command line as --name value; words after --name up to the next --name\n"
    "join that directive, and an empty argument is an empty value:\n"
    "\n"
    "  cairn server /etc/cairn/cairn.conf\n"
    "  cairn server --port 7000 --save \"\" --replicaof 127.0.0.1 6379\n"
    "\n"
    "Stop it with SIGTERM, Ctrl-C or the SHUTDOWN command.\n";

int RunServer(const std::vector<std::string>& args) {
  config::Config cfg;
  // rename-command lines are checked as they are read against a table of their
  // own, so that a bad one is reported with its file and line; Server::Init
  // applies the same lines to the real table.
  cmd::CommandTable rename_table;
  cmd::RegisterAllCommands(rename_table);
  cfg.SetRenameCheck([&rename_table](const std::string& from, const std::string& to) {
    return rename_table.Rename(from, to);
  });
  size_t i = 0;
  if (i < args.size() && (args[i] == "-h" || args[i] == "--help")) {
    std::cout << kServerUsage;
    return 0;
  }
  if (i < args.size() && args[i].rfind("--", 0) != 0) {
    cfg.set_config_file(args[i]);
    Status s = cfg.LoadFile(args[i]);
    if (!s.ok()) {
      std::cerr << "\n*** FATAL CONFIG FILE ERROR ***\n" << s.message() << "\n";
      return 1;
    }
    i++;
  }
  std::vector<std::string> rest(args.begin() + static_cast<long>(i), args.end());
  auto text = config::Config::ArgsToConfigText(rest);
  if (!text.ok()) {
    std::cerr << "\n*** FATAL CONFIG FILE ERROR ***\n" << text.status().message() << "\n";
    return 1;
  }
  if (Status s = cfg.LoadString(*text, "(command line)"); !s.ok()) {
    std::cerr << "\n*** FATAL CONFIG FILE ERROR ***\n" << s.message() << "\n";
    return 1;
  }
  if (Status s = log::Setup(cfg.v().loglevel, cfg.v().logfile); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  cfg.SetRenameCheck(nullptr);
  Server server(std::move(cfg));
  if (Status s = server.Init(); !s.ok()) {
    log::Server().warn("{}", s.message());
    return 1;
  }
  return server.Run();
}

int RunGenkey(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cout << "Usage: cairn genkey > node.key && chmod 600 node.key\n\n"
                 "Prints a new X25519 private key as base64 (keep it secret; `cairn pubkey`\n"
                 "prints the public half to give to peers).\n";
    return args[0] == "-h" || args[0] == "--help" ? 0 : 1;
  }
  auto pair = crypto::GenerateKeyPair();
  if (!pair.ok()) {
    std::cerr << "cairn genkey: " << pair.status().message() << "\n";
    return 1;
  }
  std::cout << crypto::KeyToBase64(pair->private_key) << "\n";
  return 0;
}

int RunPubkey(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cout << "Usage: cairn pubkey < node.key\n\n"
                 "Reads a private key (base64) on standard input and prints its public key,\n"
                 "the value peers put in secure-allow / secure-master-public-key.\n";
    return args[0] == "-h" || args[0] == "--help" ? 0 : 1;
  }
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto key = crypto::KeyFromBase64(text);
  if (!key.ok()) {
    std::cerr << "cairn pubkey: " << key.status().message() << "\n";
    return 1;
  }
  auto pub = crypto::PublicFromPrivate(*key);
  crypto::Wipe(key->data(), key->size());
  if (!pub.ok()) {
    std::cerr << "cairn pubkey: " << pub.status().message() << "\n";
    return 1;
  }
  std::cout << crypto::KeyToBase64(*pub) << "\n";
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  if (argc >= 2) {
    std::string cmd = argv[1];
    std::vector<std::string> rest(argv + 2, argv + argc);
    if (cmd == "server") return RunServer(rest);
    if (cmd == "genkey") return RunGenkey(rest);
    if (cmd == "pubkey") return RunPubkey(rest);
    if (cmd == "tunnel") return RunTunnel(rest);
    if (cmd == "snapshot") return RunSnapshot(rest);
    if (cmd == "promote") return RunPromote(rest);
  }
  cxxopts::Options opts("cairn", "Cairn: encrypted WAN backup replicator for Redis data");
  opts.add_options()("h,help", "Show help")("v,version", "Show the version");
  opts.allow_unrecognised_options();
  try {
    auto r = opts.parse(argc, argv);
    if (r.count("version")) {
      std::cout << "Cairn server v=" << CAIRN_VERSION << " (Redis protocol 7.0 compatible)\n";
      return 0;
    }
    if (r.count("help") || argc == 1) {
      std::cout << kUsage;
      return argc == 1 ? 1 : 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "cairn: " << e.what() << "\n" << kUsage;
    return 1;
  }
  std::cerr << "cairn: unknown command '" << argv[1] << "'\n" << kUsage;
  return 1;
}

}  // namespace cairn::server
