// Process-wide allocation policy for training loops.
#pragma once

namespace cadenza {

// A training step frees and reallocates the same multi-megabyte buffers (tapes, activation
// gradients) every step. With glibc's defaults those go to mmap or are trimmed back to the
// kernel when freed, and every step faults their pages in again (about 2,000 page faults per
// bench_lm step). This raises the mmap threshold to its 32 MiB maximum and keeps freed memory in
// the heap, so later steps reuse it. Call once at startup, before any threads start.
void keep_freed_memory_for_reuse();

}  // namespace cadenza
