// SIGINT (Ctrl-C) and SIGTERM (kill, Slurm's preemption notice) become a request to stop at the
// next safe point instead of an abrupt end: the trainer checks `interrupt_signal()` between
// steps, writes a checkpoint, marks its run "interrupted" and exits 128 + the signal (130 for
// SIGINT, 143 for SIGTERM), so that `cadenza train --resume` continues it bit-identically.
// Further signals change nothing: the stop is already under way, and a signal may arrive twice
// (from the terminal or Slurm to the whole process group, and forwarded by a sweep to its
// workers). SIGKILL ends a process at once and, as every output is written atomically, loses only
// the steps since the last checkpoint.
//
// The signals are received by one thread of their own, never by a computing thread: the handlers
// block SIGINT and SIGTERM in the thread that installs them (every thread started later inherits
// that) and read them from a signalfd. A signal delivered to a thread while it runs a oneDNN 2.6
// kernel can corrupt the heap: flooded with SIGTERM, 9 of 15 smoke trainings on one core aborted
// in the LSTM backward with glibc's "corrupted size vs. prev_size" when a handler ran on the
// computing thread (docs/faults.md).
#pragma once

#include <memory>

#include "core/error.hpp"

namespace cadenza {

// Receives SIGINT and SIGTERM for the lifetime of the object, on a thread of its own; create it
// before any other thread (OpenMP's, TBB's), which then inherit the blocked signals. A thread
// started earlier with the signals unblocked gets them through a handler that records them the
// same way. When the object dies the receiver stops and the previous dispositions come back, but
// the signals stay blocked in the threads that blocked them: the command is ending, and a late
// signal must not turn its exit code into death by that signal.
class InterruptHandlers {
 public:
  InterruptHandlers();
  ~InterruptHandlers();
  InterruptHandlers(const InterruptHandlers&) = delete;
  InterruptHandlers& operator=(const InterruptHandlers&) = delete;

 private:
  struct Receiver;
  std::unique_ptr<Receiver> receiver_;
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
