#include "distributed/communicator.hpp"

#include <fmt/format.h>
// MPI's C API only: Open MPI's mpi.h otherwise declares its deprecated C++ bindings, which live in
// a library cadenza does not link.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/error.hpp"
#include "core/partition.hpp"

namespace cadenza {
namespace {

// How long a failing rank other than 0 waits before it aborts the others.
constexpr auto kRootFirst = std::chrono::seconds(2);

bool set(const char* variable) {
  return std::getenv(variable) != nullptr;
}

// Throws Error naming the MPI call and MPI's message when it did not succeed.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char message[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, message, &length);
  throw Error(fmt::format("{} failed: {}", call, message));
}

}  // namespace

Communicator& Communicator::world() {
  static Communicator world = [] {
    Communicator created;
    const bool launched = set("OMPI_COMM_WORLD_SIZE") || set("PMIX_RANK") || set("PMI_RANK");
    if (!launched) {
      const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS");
      if (tasks != nullptr && std::atoi(tasks) > 1) {
        throw UsageError(fmt::format(
            "this process is one of {} tasks of a Slurm step but was started without MPI, so "
            "each would train the run alone: launch it with `srun --mpi=pmix` or `mpirun`",
            tasks));
      }
      return created;
    }
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    created.mpi_ = true;
    check(MPI_Comm_rank(MPI_COMM_WORLD, &created.rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &created.size_), "MPI_Comm_size");
    return created;
  }();
  return world;
}

std::string Communicator::library_version() {
  char version[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(version, &length);
  std::string text(version, static_cast<size_t>(length));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0'))
    text.pop_back();
  return text;
}

void Communicator::ordered_sum(std::span<float> values) const {
  if (size_ == 1) return;
  const int n = static_cast<int>(values.size());
  std::vector<int> counts(static_cast<size_t>(size_)), firsts(static_cast<size_t>(size_));
  for (int r = 0; r < size_; ++r) {
    const Part part = balanced_part(n, r, size_);
    counts[static_cast<size_t>(r)] = static_cast<int>(part.count);
    firsts[static_cast<size_t>(r)] = static_cast<int>(part.first);
  }
  const int mine_first = firsts[static_cast<size_t>(rank_)];
  const int mine_count = counts[static_cast<size_t>(rank_)];
  // Reduce-scatter: rank r receives every rank's copy of its part, in rank order...
  std::vector<float> pieces(static_cast<size_t>(mine_count) * static_cast<size_t>(size_));
  std::vector<int> piece_counts(static_cast<size_t>(size_), mine_count),
      piece_firsts(static_cast<size_t>(size_));
  for (int r = 0; r < size_; ++r)
    piece_firsts[static_cast<size_t>(r)] = r * mine_count;
  check(MPI_Alltoallv(values.data(), counts.data(), firsts.data(), MPI_FLOAT, pieces.data(),
                      piece_counts.data(), piece_firsts.data(), MPI_FLOAT, MPI_COMM_WORLD),
        "MPI_Alltoallv");
  // ...and sums them in that order.
  float* sum = values.data() + mine_first;
  for (int i = 0; i < mine_count; ++i)
    sum[i] = pieces[static_cast<size_t>(i)];
  for (int r = 1; r < size_; ++r) {
    const float* piece = pieces.data() + static_cast<size_t>(r) * mine_count;
    for (int i = 0; i < mine_count; ++i)
      sum[i] += piece[i];
  }
  // All-gather of the summed parts.
  check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, values.data(), counts.data(),
                       firsts.data(), MPI_FLOAT, MPI_COMM_WORLD),
        "MPI_Allgatherv");
}

std::vector<double> Communicator::all_gather(std::span<const double> values) const {
  if (size_ == 1) return {values.begin(), values.end()};
  std::vector<double> gathered(values.size() * static_cast<size_t>(size_));
  const int count = static_cast<int>(values.size());
  check(MPI_Allgather(values.data(), count, MPI_DOUBLE, gathered.data(), count, MPI_DOUBLE,
                      MPI_COMM_WORLD),
        "MPI_Allgather");
  return gathered;
}

double Communicator::broadcast(double value) const {
  if (size_ > 1) check(MPI_Bcast(&value, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return value;
}

int Communicator::max(int value) const {
  if (size_ == 1) return value;
  int largest = value;
  check(MPI_Allreduce(&value, &largest, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return largest;
}

void Communicator::barrier() const {
  if (size_ > 1) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void Communicator::finish(int exit_code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return;
  if (exit_code == 0 || exit_code == 130 || exit_code == 143) {
    MPI_Finalize();
    return;
  }
  // An error all ranks met (a NaN loss, say) reaches rank 0 too: give it the time to record the
  // failure in the manifest before the abort ends it.
  if (world().rank() != 0) std::this_thread::sleep_for(kRootFirst);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
}

}  // namespace cadenza
