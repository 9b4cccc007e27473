// The processes that train one run together (docs/scale.md#mpi): MPI's world when a launcher
// (mpirun, or srun --mpi=pmix inside a Slurm job) started this process, else a world of one
// process in which every call below is trivial and MPI is never initialised.
//
// Every collective call must be made by every rank, in the same order. Results are identical, bit
// for bit, on every rank, and independent of MPI's choice of algorithm: sums are formed by cadenza
// in rank order, never by MPI_Allreduce.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace cadenza {

class Communicator {
 public:
  // The world of this process. The first call initialises MPI when the environment shows an MPI
  // launcher (OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK); create core/interrupt.hpp's handlers
  // before it, so that MPI's threads inherit the blocked signals. Throws UsageError when a Slurm
  // step of several tasks started this process without MPI (srun without --mpi=pmix).
  static Communicator& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  // MPI_Get_library_version, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, ...".
  static std::string library_version();

  // values [n], the same n on every rank -> on every rank, element by element,
  // ((v_0 + v_1) + v_2) + ... + v_{size-1} in float, v_r being rank r's values. A reduce-scatter
  // (each rank sums its n / size elements in rank order) and an all-gather: every rank sends and
  // receives 2 (size - 1) / size * n floats, as in a ring all-reduce.
  void ordered_sum(std::span<float> values) const;

  // values [k], the same k on every rank -> [size * k]: rank r's values at [r * k, (r + 1) * k).
  std::vector<double> all_gather(std::span<const double> values) const;

  // Rank 0's value, on every rank.
  double broadcast(double value) const;

  // The largest of the ranks' values, on every rank.
  int max(int value) const;

  void barrier() const;

  // Ends MPI, if it was initialised, with the exit code of the command: 0, 130 and 143 (every rank
  // stopped at the same step) finalise; any other code aborts every rank with that code, since a
  // rank that failed alone would leave the others waiting in a collective call (rank 0 at once,
  // the others 2 s later, so that rank 0, failing too, has recorded it in the run's manifest).
  static void finish(int exit_code);

 private:
  Communicator() = default;
  int rank_ = 0;
  int size_ = 1;
  bool mpi_ = false;
};

}  // namespace cadenza
