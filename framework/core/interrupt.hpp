// SIGINT (Ctrl-C) and SIGTERM (kill, Slurm's preemption notice) become a request to stop at the
// next safe point instead of an abrupt end: the trainer checks `interrupt_signal()` between
// steps, writes a checkpoint, marks its run "interrupted" and exits 128 + the signal (130 for
// SIGINT, 143 for SIGTERM), so that `cadenza train --resume` continues it bit-identically.
// Further signals change nothing: the stop is already under way, and a signal may arrive twice
// (from the terminal or Slurm to the whole process group, and forwarded by a sweep to its
// workers). SIGKILL ends a process at once and, as every output is written atomically, loses only
// the steps since the last checkpoint.
#pragma once

#include "core/error.hpp"

namespace cadenza {

// Installs the handlers for the lifetime of the object; the previous dispositions come back when
// it dies.
class InterruptHandlers {
 public:
  InterruptHandlers();
  ~InterruptHandlers();
  InterruptHandlers(const InterruptHandlers&) = delete;
  InterruptHandlers& operator=(const InterruptHandlers&) = delete;
};

// The signal received since the handlers were installed, or 0.
int interrupt_signal();

// "SIGINT", "SIGTERM", or "a signal".
const char* signal_name(int signal);

// Thrown after a run stopped on a signal at a safe point (its checkpoint written). Exit code
// 128 + signal.
class Interrupted : public Error {
 public:
  Interrupted(int signal, const std::string& message) : Error(message), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace cadenza
