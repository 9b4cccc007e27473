#include "core/interrupt.hpp"

#include <signal.h>

#include <atomic>

namespace cadenza {
namespace {

std::atomic<int> received{0};
static_assert(std::atomic<int>::is_always_lock_free, "the handler may only touch lock-free state");

struct sigaction previous_int, previous_term;

extern "C" void record_signal(int signal) {
  int none = 0;
  received.compare_exchange_strong(none, signal, std::memory_order_relaxed);
}

}  // namespace

InterruptHandlers::InterruptHandlers() {
  received.store(0);
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: system calls the signal interrupts resume instead of failing with EINTR.
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
  // A sweep starts its workers with these signals blocked (sweeps/worker_process.hpp): one that
  // arrived during start-up is delivered now, to the handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
}

InterruptHandlers::~InterruptHandlers() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
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
