// The multi-part AOF manifest: parsing, formatting, atomic replacement.
#include "node/persistence/aof_manifest.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "node/base/number.h"
#include "node/persistence/rdb_write_sink.h"
#include "node/protocol/resp_parser.h"

namespace cairn::persist {

namespace {

// Quotes a file name as Redis's sdscatrepr does when it needs quoting.
std::string ReprName(const std::string& s) {
  bool plain = !s.empty();
  for (unsigned char c : s)
    plain = plain && c > 32 && c < 127 && c != '"' && c != '\'' && c != '\\';
  if (plain) return s;
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 32 || c >= 127) {
      char b[8];
      snprintf(b, sizeof(b), "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

const AofFile* AofManifest::base() const {
  for (const auto& f : files)
    if (f.type == 'b') return &f;
  return nullptr;
}

std::vector<const AofFile*> AofManifest::incrs() const {
  std::vector<const AofFile*> out;
  for (const auto& f : files)
    if (f.type == 'i') out.push_back(&f);
  return out;
}

int64_t AofManifest::NextBaseSeq() const {
  int64_t seq = 0;
  for (const auto& f : files)
    if (f.type == 'b' || f.type == 'h') seq = std::max(seq, f.seq);
  return seq + 1;
}

int64_t AofManifest::NextIncrSeq() const {
  int64_t seq = 0;
  for (const auto& f : files)
    if (f.type == 'i') seq = std::max(seq, f.seq);
  return seq + 1;
}

std::string AofManifest::Format() const {
  std::string out;
  auto add = [&](const AofFile& f) {
    out += "file " + ReprName(f.name) + " seq " + std::to_string(f.seq) + " type ";
    out += f.type;
    out += '\n';
  };
  for (char t : {'b', 'h', 'i'})
    for (const auto& f : files)
      if (f.type == t) add(f);
  return out;
}

Result<AofManifest> ParseAofManifest(const std::string& text) {
  AofManifest m;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  int bases = 0;
  while (std::getline(in, line)) {
    lineno++;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](const std::string& why) {
      return Status::Corruption("AOF manifest line " + std::to_string(lineno) + ": " + why);
    };
    std::vector<std::string> w;
    if (!protocol::SplitArgs(line, &w) || w.size() < 6 || w.size() % 2 != 0)
      return bad("invalid format");
    AofFile f;
    f.type = 0;
    bool have_seq = false;
    for (size_t i = 0; i < w.size(); i += 2) {
      if (w[i] == "file") {
        f.name = w[i + 1];
        if (f.name.find('/') != std::string::npos) return bad("file name with a '/'");
      } else if (w[i] == "seq") {
        have_seq = base::ParseInt64(w[i + 1], &f.seq) && f.seq > 0;
      } else if (w[i] == "type") {
        if (w[i + 1].size() == 1) f.type = w[i + 1][0];
      }
    }
    if (f.name.empty() || !have_seq || (f.type != 'b' && f.type != 'i' && f.type != 'h'))
      return bad("invalid file, seq or type");
    if (f.type == 'b' && ++bases > 1) return bad("more than one base file");
    m.files.push_back(std::move(f));
  }
  return m;
}

Result<AofManifest> LoadAofManifest(const std::string& aof_dir, const std::string& appendfilename) {
  std::string path = aof_dir + "/" + AofManifestName(appendfilename);
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    if (errno == ENOENT) return Status::NotFound(path);
    return ErrnoStatus("open " + path, errno);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f.good() && !f.eof()) return ErrnoStatus("read " + path, errno);
  auto m = ParseAofManifest(ss.str());
  if (!m.ok()) return Status::Corruption(path + ": " + m.status().message());
  return m;
}

Status SaveAofManifest(const std::string& aof_dir, const std::string& appendfilename,
                       const AofManifest& m) {
  auto sink = FileSink::Create(aof_dir + "/" + AofManifestName(appendfilename));
  if (!sink.ok()) return sink.status();
  const std::string text = m.Format();
  if (Status s = sink.value()->Write(text.data(), text.size()); !s.ok()) return s;
  return sink.value()->Commit();
}

std::string AofBaseName(const std::string& appendfilename, int64_t seq, bool rdb_preamble) {
  return appendfilename + "." + std::to_string(seq) + ".base" + (rdb_preamble ? ".rdb" : ".aof");
}

std::string AofIncrName(const std::string& appendfilename, int64_t seq) {
  return appendfilename + "." + std::to_string(seq) + ".incr.aof";
}

std::string AofManifestName(const std::string& appendfilename) {
  return appendfilename + ".manifest";
}

}  // namespace cairn::persist
