// Thread budget (docs/onednn.md, trap 8): loader threads plus oneDNN's OpenMP threads never exceed
// the cores. Measured, not assumed.
//
// What is measured: a sampler thread reads /proc/self/task/<tid>/stat about every 200 us and
// counts this process's threads in state 'R' (running, or runnable and waiting for a core),
// excluding itself. The workload is a trainer-like loop on the test thread: oneDNN matmuls
// (OpenMP) interleaved with loader.next() while the loader's pipeline builds batches with
// transposition. A thread that is blocked or sleeping (an idle pool thread, a producer waiting
// on a full queue) is not 'R' and does not count: the claim is about threads competing for
// cores, which is what oversubscription means. Sampling can miss short bursts, so a control
// with cores + 1 busy threads checks that the instrument does see more runnable threads than
// cores. Found while writing this test: after a phase with a larger OpenMP team, the surplus
// pool thread keeps spin-waiting (state 'R') for a while before it sleeps, so a process that
// lowers its OpenMP count briefly oversubscribes; each measurement starts after a 200 ms warm-up.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <oneapi/dnnl/dnnl.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/engine.hpp"
#include "core/threads.hpp"
#include "data/loader.hpp"
#include "data/mat_import.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace cadenza {
namespace {

class RunningThreadSampler {
 public:
  RunningThreadSampler() : thread_([this] { sample_until_stopped(); }) {}
  ~RunningThreadSampler() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Readable while sampling.
  int peak_running() const { return peak_.load(); }
  int64_t samples() const { return samples_.load(); }
  // "tid:name" of every thread seen in state 'R'.
  const std::set<std::string>& seen() const { return seen_running_; }

 private:
  static char state_of(const std::filesystem::path& stat_file) {
    std::ifstream in(stat_file);
    std::string line;
    std::getline(in, line);
    const auto close = line.rfind(')');  // the command name may contain spaces or ')'
    return close == std::string::npos || close + 2 >= line.size() ? '?' : line[close + 2];
  }

  void sample_until_stopped() {
    const auto self = std::to_string(static_cast<long>(::syscall(SYS_gettid)));
    while (!stop_) {
      int running = 0;
      std::error_code error;
      for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", error)) {
        const auto tid = task.path().filename().string();
        if (tid == self) continue;
        if (state_of(task.path() / "stat") == 'R') {
          ++running;
          std::ifstream comm(task.path() / "comm");
          std::string name;
          std::getline(comm, name);
          seen_running_.insert(tid + ":" + name);
        }
      }
      peak_ = std::max(peak_.load(), running);
      ++samples_;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> peak_{0};
  std::atomic<int64_t> samples_{0};
  std::set<std::string> seen_running_;
  std::thread thread_;
};

// A [256, 256] x [256, 256] f32 matmul, the kind of dense work oneDNN spreads over OpenMP threads.
class MatmulWork {
 public:
  MatmulWork()
      : src_md_({256, 256}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab),
        src_(src_md_, cpu_engine()),
        weights_(src_md_, cpu_engine()),
        dst_(src_md_, cpu_engine()),
        matmul_(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md_, src_md_, src_md_),
                                             cpu_engine())) {
    for (auto* memory : {&src_, &weights_}) {
      auto* data = static_cast<float*>(memory->get_data_handle());
      for (int i = 0; i < 256 * 256; ++i)
        data[i] = static_cast<float>(i % 7) * 0.1f;
    }
  }
  void run() {
    matmul_.execute(cpu_stream(),
                    {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, dst_}});
    cpu_stream().wait();
  }

 private:
  dnnl::memory::desc src_md_;
  dnnl::memory src_, weights_, dst_;
  dnnl::matmul matmul_;
};

struct Measurement {
  int peak_running = 0;
  size_t distinct_running = 0;
  std::string running_threads;
  int64_t samples = 0;
  int64_t batches = 0;
};

// Trains-without-a-model for at least 0.8 s under the budget: compute on this thread, loader as
// budgeted.
Measurement measure_under_budget(const ThreadBudget& budget) {
  static const auto split = std::make_shared<const SplitRolls>(
      import_mat(testing::shared_dir() / "datasets" / "polyphonic" / "JSB_Chorales.mat", "JSB")
          .splits[0]);
  const ThreadScope scope(budget);
  EXPECT_EQ(ThreadScope::openmp_threads(), budget.compute);
  LoaderOptions options;
  options.framing = Framing::kWindow;
  options.batch_size = 32;
  options.window = 64;
  options.stride = 16;
  options.max_transpose = 6;
  options.threads = budget.loader;
  options.prefetch = 4;
  MatmulWork work;
  Measurement measurement;
  {
    Loader loader(split, options);
    const auto run_until = [&](auto done) {
      while (!done()) {
        work.run();
        loader.next();
        ++measurement.batches;
      }
    };
    using Clock = std::chrono::steady_clock;
    // Warm-up: OpenMP pool threads left over from an earlier, larger team (another test, or the
    // previous budget here) spin-wait for a while before they sleep; let them settle first.
    const auto warm_until = Clock::now() + std::chrono::milliseconds(200);
    run_until([&] { return Clock::now() >= warm_until; });
    // Measured for 0.8 s, and longer (up to 60 s) until the sampler has more than 100 samples and
    // more than 10 batches were taken: a sanitizer build or a loaded machine is slower.
    RunningThreadSampler sampler;
    const auto start = Clock::now();
    run_until([&] {
      const auto now = Clock::now();
      return now >= start + std::chrono::seconds(60) ||
             (now >= start + std::chrono::milliseconds(800) && sampler.samples() > 100 &&
              measurement.batches > 10);
    });
    sampler.stop();
    measurement.peak_running = sampler.peak_running();
    measurement.distinct_running = sampler.seen().size();
    measurement.samples = sampler.samples();
    for (const auto& thread : sampler.seen())
      measurement.running_threads += thread + " ";
  }
  return measurement;
}

TEST(LoaderThreadBudget, LoaderPlusComputeThreadsNeverExceedTheCores) {
  const int cores = available_cores();
  for (const int loader_threads : {0, 1}) {
    if (loader_threads >= cores) continue;  // a 1-core machine has no room for a loader thread
    const ThreadBudget budget = resolve_thread_budget(0, loader_threads, cores);
    ASSERT_LE(budget.compute + budget.loader, cores);
    const Measurement m = measure_under_budget(budget);
    std::cout << "[ budget  ] cores " << cores << ", compute " << budget.compute << ", loader "
              << budget.loader << ": peak running threads " << m.peak_running << " over "
              << m.samples << " samples, " << m.distinct_running << " distinct threads ran, "
              << m.batches << " batches\n";
    EXPECT_GT(m.samples, 100);
    EXPECT_GT(m.batches, 10);
    EXPECT_LE(m.peak_running, cores) << "threads seen running: " << m.running_threads;
  }
}

TEST(LoaderThreadBudget, TheSamplerSeesOversubscriptionWhenThereIsSome) {
  const int cores = available_cores();
  std::atomic<bool> stop{false};
  std::vector<std::thread> spinners;
  RunningThreadSampler sampler;
  for (int i = 0; i < cores + 1; ++i) {
    spinners.emplace_back([&stop] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  }
  // Until the sampler catches the spinners running at once (a loaded machine may keep some of them
  // waiting for a while).
  testing::wait_until([&] { return sampler.peak_running() > cores; }, std::chrono::seconds(60));
  sampler.stop();
  stop = true;
  for (auto& spinner : spinners)
    spinner.join();
  EXPECT_GT(sampler.peak_running(), cores) << "within 60 s";
}

}  // namespace
}  // namespace cadenza
