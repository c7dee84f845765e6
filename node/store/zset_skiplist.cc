// ZSkipList implementation (see zset_skiplist.h) and the range parsers shared
// by both sorted-set encodings.
#include "node/store/zset_skiplist.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "node/base/memory.h"

namespace cairn::store {

namespace {

// Redis parses score bounds with strtod on the C string: leading spaces and
// hex are accepted, trailing bytes and NaN are not.
bool ParseScoreBound(std::string_view s, double* v, bool* ex) {
  std::string buf(s);
  const char* p = buf.c_str();
  *ex = false;
  if (p[0] == '(') {
    *ex = true;
    p++;
  }
  char* end = nullptr;
  *v = std::strtod(p, &end);
  return end[0] == '\0' && !std::isnan(*v);
}

bool ParseLexBound(std::string_view s, ZLexBound* b) {
  // C-string semantics as Redis: an embedded NUL ends "+" / "-".
  char c0 = s.empty() ? '\0' : s[0];
  char c1 = s.size() > 1 ? s[1] : '\0';
  switch (c0) {
    case '+':
      if (c1 != '\0') return false;
      b->kind = ZLexBound::Kind::kPosInf;
      b->ex = true;
      return true;
    case '-':
      if (c1 != '\0') return false;
      b->kind = ZLexBound::Kind::kNegInf;
      b->ex = true;
      return true;
    case '(':
    case '[':
      b->kind = ZLexBound::Kind::kValue;
      b->ex = c0 == '(';
      b->value.assign(s.substr(1));
      return true;
    default:
      return false;
  }
}

// Compares a member with a bound: <0, 0, >0 (infinities never equal a member).
int CompareToBound(std::string_view v, const ZLexBound& b) {
  switch (b.kind) {
    case ZLexBound::Kind::kNegInf:
      return 1;
    case ZLexBound::Kind::kPosInf:
      return -1;
    case ZLexBound::Kind::kValue:
      break;
  }
  int c = v.compare(b.value);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

uint64_t g_level_state = 0;

}  // namespace

bool ParseScoreRange(std::string_view min, std::string_view max, ZScoreRange* out) {
  return ParseScoreBound(min, &out->min, &out->minex) &&
         ParseScoreBound(max, &out->max, &out->maxex);
}

bool ParseLexRange(std::string_view min, std::string_view max, ZLexRange* out) {
  return ParseLexBound(min, &out->min) && ParseLexBound(max, &out->max);
}

bool LexGteMin(std::string_view v, const ZLexRange& r) {
  int c = CompareToBound(v, r.min);
  return r.min.ex ? c > 0 : c >= 0;
}

bool LexLteMax(std::string_view v, const ZLexRange& r) {
  int c = CompareToBound(v, r.max);
  return r.max.ex ? c < 0 : c <= 0;
}

bool LexRangeMayMatch(std::string_view first, std::string_view last, const ZLexRange& r) {
  using Kind = ZLexBound::Kind;
  auto rank = [](Kind k) { return k == Kind::kNegInf ? 0 : (k == Kind::kValue ? 1 : 2); };
  int cmp = rank(r.min.kind) - rank(r.max.kind);
  if (cmp == 0 && r.min.kind == Kind::kValue) cmp = r.min.value.compare(r.max.value);
  if (cmp > 0 || (cmp == 0 && (r.min.ex || r.max.ex))) return false;
  return LexGteMin(last, r) && LexLteMax(first, r);
}

ZNode* ZSkipList::NewNode(int height, double score, std::string_view member) {
  size_t bytes = sizeof(ZNode) + height * sizeof(ZNode::Level) + member.size();
  auto* n = static_cast<ZNode*>(base::ZMalloc(bytes));
  n->next = nullptr;
  n->backward = nullptr;
  n->score = score;
  n->len = static_cast<uint32_t>(member.size());
  n->height = static_cast<uint8_t>(height);
  for (int i = 0; i < height; i++) n->level()[i] = ZNode::Level{nullptr, 0};
  if (!member.empty()) {
    std::memcpy(reinterpret_cast<char*>(n->level() + height), member.data(), member.size());
  }
  return n;
}

int ZSkipList::RandomLevel() {
  // Geometric with p = 1/4, as Redis's zslRandomLevel.
  if (g_level_state == 0) g_level_state = RandomU64() | 1;
  int level = 1;
  while (level < kMaxLevel) {
    g_level_state ^= g_level_state << 13;
    g_level_state ^= g_level_state >> 7;
    g_level_state ^= g_level_state << 17;
    if ((g_level_state & 3) != 0) break;
    level++;
  }
  return level;
}

ZSkipList::ZSkipList() : header_(NewNode(kMaxLevel, 0, {})) {}

ZSkipList::~ZSkipList() {
  ZNode* x = First();
  while (x) {
    ZNode* next = x->Next();
    base::ZFree(x);
    x = next;
  }
  base::ZFree(header_);
}

void ZSkipList::FindUpdate(double score, std::string_view member, ZNode** update) const {
  ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (ZNode* f = x->level()[i].forward) {
      if (ZCompare(f->score, f->member(), score, member) >= 0) break;
      x = f;
    }
    update[i] = x;
  }
}

void ZSkipList::Link(ZNode* x) {
  ZNode* update[kMaxLevel];
  size_t rank[kMaxLevel];
  ZNode* p = header_;
  std::string_view member = x->member();
  for (int i = level_ - 1; i >= 0; i--) {
    rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
    while (ZNode* f = p->level()[i].forward) {
      if (ZCompare(f->score, f->member(), x->score, member) >= 0) break;
      rank[i] += p->level()[i].span;
      p = f;
    }
    update[i] = p;
  }
  int height = x->height;
  if (height > level_) {
    for (int i = level_; i < height; i++) {
      rank[i] = 0;
      update[i] = header_;
      header_->level()[i].span = length_;
    }
    level_ = height;
  }
  for (int i = 0; i < height; i++) {
    ZNode::Level& ul = update[i]->level()[i];
    x->level()[i].forward = ul.forward;
    ul.forward = x;
    x->level()[i].span = ul.span - (rank[0] - rank[i]);
    ul.span = (rank[0] - rank[i]) + 1;
  }
  for (int i = height; i < level_; i++) update[i]->level()[i].span++;
  x->backward = update[0] == header_ ? nullptr : update[0];
  if (x->Next())
    x->Next()->backward = x;
  else
    tail_ = x;
  length_++;
}

void ZSkipList::Unlink(ZNode* x, ZNode** update) {
  for (int i = 0; i < level_; i++) {
    ZNode::Level& ul = update[i]->level()[i];
    if (ul.forward == x) {
      ul.span += x->level()[i].span - 1;
      ul.forward = x->level()[i].forward;
    } else {
      ul.span -= 1;
    }
  }
  if (x->Next())
    x->Next()->backward = x->backward;
  else
    tail_ = x->backward;
  while (level_ > 1 && header_->level()[level_ - 1].forward == nullptr) level_--;
  length_--;
}

ZNode* ZSkipList::Insert(double score, std::string_view member) {
  ZNode* x = NewNode(RandomLevel(), score, member);
  node_bytes_ += base::ZUsableSize(x);
  Link(x);
  dict_.Insert(x);
  return x;
}

bool ZSkipList::Remove(std::string_view member, double* score) {
  ZNode* x = dict_.Remove(member);
  if (x == nullptr) return false;
  ZNode* update[kMaxLevel];
  FindUpdate(x->score, member, update);
  Unlink(x, update);
  if (score) *score = x->score;
  node_bytes_ -= base::ZUsableSize(x);
  base::ZFree(x);
  return true;
}

void ZSkipList::UpdateScore(ZNode* x, double score) {
  // Same position: neighbours still bracket the new score.
  if ((x->backward == nullptr || x->backward->score < score) &&
      (x->Next() == nullptr || x->Next()->score > score)) {
    x->score = score;
    return;
  }
  ZNode* update[kMaxLevel];
  FindUpdate(x->score, x->member(), update);
  Unlink(x, update);
  x->score = score;
  for (int i = 0; i < x->height; i++) x->level()[i] = ZNode::Level{nullptr, 0};
  x->backward = nullptr;
  Link(x);
}

size_t ZSkipList::Rank(const ZNode* n) const {
  size_t rank = 0;
  const ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (ZNode* f = x->level()[i].forward) {
      if (ZCompare(f->score, f->member(), n->score, n->member()) > 0) break;
      rank += x->level()[i].span;
      x = f;
    }
    if (x == n) return rank;
  }
  return 0;
}

ZNode* ZSkipList::ByRank(size_t rank) const {
  if (rank == 0 || rank > length_) return nullptr;
  size_t traversed = 0;
  ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->level()[i].forward && traversed + x->level()[i].span <= rank) {
      traversed += x->level()[i].span;
      x = x->level()[i].forward;
    }
    if (traversed == rank) return x;
  }
  return nullptr;
}

ZNode* ZSkipList::FirstInRange(const ZScoreRange& r) const {
  ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->level()[i].forward && !ScoreGteMin(x->level()[i].forward->score, r))
      x = x->level()[i].forward;
  }
  x = x->Next();
  if (x == nullptr || !ScoreLteMax(x->score, r)) return nullptr;
  return x;
}

ZNode* ZSkipList::LastInRange(const ZScoreRange& r) const {
  ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->level()[i].forward && ScoreLteMax(x->level()[i].forward->score, r))
      x = x->level()[i].forward;
  }
  if (x == header_ || !ScoreGteMin(x->score, r)) return nullptr;
  return x;
}

ZNode* ZSkipList::FirstInLex(const ZLexRange& r, bool check_bounds) const {
  if (length_ == 0) return nullptr;
  if (check_bounds && !LexRangeMayMatch(First()->member(), tail_->member(), r)) return nullptr;
  ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->level()[i].forward && !LexGteMin(x->level()[i].forward->member(), r))
      x = x->level()[i].forward;
  }
  x = x->Next();
  if (x == nullptr || !LexLteMax(x->member(), r)) return nullptr;
  return x;
}

ZNode* ZSkipList::LastInLex(const ZLexRange& r) const {
  if (length_ == 0 || !LexRangeMayMatch(First()->member(), tail_->member(), r)) return nullptr;
  ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->level()[i].forward && LexLteMax(x->level()[i].forward->member(), r))
      x = x->level()[i].forward;
  }
  if (x == header_ || !LexGteMin(x->member(), r)) return nullptr;
  return x;
}

size_t ZSkipList::Memory() const {
  return sizeof(*this) + base::ZUsableSize(header_) + node_bytes_ + dict_.BucketBytes();
}

}  // namespace cairn::store
