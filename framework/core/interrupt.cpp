#include "core/interrupt.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace cadenza {
namespace {

std::atomic<int> received{0};
static_assert(std::atomic<int>::is_always_lock_free, "the handler may only touch lock-free state");

void record(int signal) {
  int none = 0;
  received.compare_exchange_strong(none, signal, std::memory_order_relaxed);
}

// For a thread that started before the handlers and has the signals unblocked.
extern "C" void record_signal(int signal) {
  record(signal);
}

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// A descriptor that is closed when the object dies.
class Descriptor {
 public:
  explicit Descriptor(int fd, const char* what) : fd_(fd) {
    if (fd_ < 0) {
      throw Error(fmt::format("cannot set up the SIGINT/SIGTERM handling: {} failed: {}", what,
                              std::strerror(errno)));
    }
  }
  ~Descriptor() { ::close(fd_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

// The thread that reads the stop signals from a signalfd until the eventfd says to end.
struct InterruptHandlers::Receiver {
  struct sigaction previous_int, previous_term;
  Descriptor signals;
  Descriptor wake;
  std::thread thread;

  explicit Receiver(const sigset_t& stop)
      : signals(::signalfd(-1, &stop, SFD_CLOEXEC), "signalfd"),
        wake(::eventfd(0, EFD_CLOEXEC), "eventfd") {}

  void receive() const {
    pollfd watched[2] = {{signals.get(), POLLIN, 0}, {wake.get(), POLLIN, 0}};
    while (true) {
      if (::poll(watched, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (watched[1].revents != 0) return;
      signalfd_siginfo info{};
      if (::read(signals.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info)))
        record(static_cast<int>(info.ssi_signo));
    }
  }
};

InterruptHandlers::InterruptHandlers() {
  received.store(0);
  const sigset_t stop = stop_signals();
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &stop, &previous);
  try {
    receiver_ = std::make_unique<Receiver>(stop);
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    throw;
  }
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: system calls the signal interrupts resume instead of failing with EINTR.
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &receiver_->previous_int);
  sigaction(SIGTERM, &action, &receiver_->previous_term);
  // A sweep starts its workers with these signals blocked (sweeps/worker_process.hpp): one that
  // arrived during start-up is pending, and the receiver reads it at once.
  receiver_->thread = std::thread([receiver = receiver_.get()] { receiver->receive(); });
}

InterruptHandlers::~InterruptHandlers() {
  const uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(receiver_->wake.get(), &one, sizeof(one));
  receiver_->thread.join();
  // The signals stay blocked: the command is ending, and one that arrives now stays pending
  // instead of turning its orderly exit (130, 143, or its own code) into death by the signal.
  sigaction(SIGINT, &receiver_->previous_int, nullptr);
  sigaction(SIGTERM, &receiver_->previous_term, nullptr);
}

int interrupt_signal() {
  return received.load(std::memory_order_relaxed);
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

}  // namespace cadenza
