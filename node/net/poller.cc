// Poller implementation; see poller.h.
#include "node/net/poller.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace cairn::net {

namespace asio = boost::asio;

Poller::Poller(asio::io_context& io) : io_(io) {}

Poller::~Poller() {
  // The stream_descriptor owns and closes epfd_.
  if (desc_) {
    boost::system::error_code ec;
    desc_->close(ec);
  }
}

Status Poller::Init() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return ErrnoStatus("epoll_create1", errno);
  desc_ = std::make_unique<asio::posix::stream_descriptor>(io_, epfd_);
  Arm();
  return Status::Ok();
}

bool Poller::Add(int fd, Handler* h) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = h;
  return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void Poller::WantWrite(int fd, Handler* h, bool on) {
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.ptr = h;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
}

void Poller::Remove(int fd) {
  epoll_event ev{};
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev);
}

void Poller::Arm() {
  desc_->async_wait(asio::posix::stream_descriptor::wait_read,
                    [this](const boost::system::error_code& ec) {
                      if (ec) return;  // closed at shutdown
                      Dispatch();
                      Arm();
                    });
}

void Poller::Dispatch() {
  epoll_event events[256];
  int n = epoll_wait(epfd_, events, 256, 0);
  dispatching_ = true;
  for (int i = 0; i < n; i++) {
    auto* h = static_cast<Handler*>(events[i].data.ptr);
    uint32_t e = events[i].events;
    if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) h->OnReadable();
    if (e & EPOLLOUT) h->OnWritable();
  }
  dispatching_ = false;
  if (before_flush) before_flush();
  std::vector<Handler*> flush;
  flush.swap(flush_);
  for (Handler* h : flush) h->OnFlush();
}

}  // namespace cairn::net
