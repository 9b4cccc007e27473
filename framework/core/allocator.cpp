#include "core/allocator.hpp"

#include <malloc.h>

namespace cadenza {

// mallopt() only tunes speed: if glibc refused a value, cadenza would run as before.
void keep_freed_memory_for_reuse() {
  constexpr int kMmapThresholdMax = 32 * 1024 * 1024;  // glibc's ceiling on 64-bit
  constexpr int kTrimThreshold = 1 << 30;
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdMax);
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
}

}  // namespace cadenza
