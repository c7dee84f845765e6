// Two-way copy between streams; see relay.h.
#include "crypto/relay.h"

#include <vector>

namespace cairn::crypto {
namespace {

constexpr size_t kBuf = 64 * 1024;

struct Relay : std::enable_shared_from_this<Relay> {
  std::unique_ptr<net::ByteStream> side[2];
  std::vector<char> buf[2];  // buf[i]: bytes read from side[i], written to side[1 - i]
  std::function<void()> done;
  bool ended = false;

  void Read(int i) {
    if (ended) return;
    side[i]->AsyncReadSome(
        buf[i].data(), buf[i].size(),
        [self = shared_from_this(), i](const boost::system::error_code& ec, size_t n) {
          if (self->ended) return;
          if (ec || n == 0) {
            self->End();
            return;
          }
          self->Write(i, n);
        });
  }

  void Write(int i, size_t n) {
    side[1 - i]->AsyncWrite(
        buf[i].data(), n,
        [self = shared_from_this(), i](const boost::system::error_code& ec, size_t) {
          if (self->ended) return;
          if (ec) {
            self->End();
            return;
          }
          self->Read(i);
        });
  }

  void End() {
    if (ended) return;
    ended = true;
    side[0]->Close();
    side[1]->Close();
    if (done) done();
  }
};

}  // namespace

void StartRelay(std::unique_ptr<net::ByteStream> a, std::unique_ptr<net::ByteStream> b,
                std::function<void()> done) {
  auto r = std::make_shared<Relay>();
  r->side[0] = std::move(a);
  r->side[1] = std::move(b);
  r->buf[0].resize(kBuf);
  r->buf[1].resize(kBuf);
  r->done = std::move(done);
  r->Read(0);
  r->Read(1);
}

}  // namespace cairn::crypto
