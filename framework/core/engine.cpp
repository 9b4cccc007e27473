#include "core/engine.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <new>

namespace cadenza {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpu_stream() {
  static dnnl::stream stream(cpu_engine());
  return stream;
}

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// The calling thread's scratchpad, at least `bytes` long and 64-byte aligned. Growing it drops
// the old buffer: callers use the pointer for one execution only.
void* thread_scratchpad(std::size_t bytes) {
  constexpr std::size_t kAlignment = 64;
  thread_local std::unique_ptr<void, FreeDeleter> buffer;
  thread_local std::size_t capacity = 0;
  if (bytes > capacity) {
    const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    buffer.reset(std::aligned_alloc(kAlignment, rounded));
    if (!buffer) throw std::bad_alloc();
    capacity = rounded;
  }
  return buffer.get();
}

}  // namespace

dnnl::primitive_attr user_scratchpad_attr(dnnl::primitive_attr attr) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::memory scratchpad_arg(const dnnl::primitive& primitive) {
  const dnnl_memory_desc_t* query =
      dnnl_primitive_desc_query_md(primitive.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  if (query == nullptr) return {};
  const dnnl::memory::desc desc(*query);
  if (desc.get_size() == 0) return {};
  return dnnl::memory(desc, cpu_engine(), nullptr);
}

void execute_and_wait(const dnnl::primitive& primitive,
                      std::unordered_map<int, dnnl::memory>& args) {
  const auto scratchpad = args.find(DNNL_ARG_SCRATCHPAD);
  if (scratchpad != args.end()) {
    scratchpad->second.set_data_handle(thread_scratchpad(scratchpad->second.get_desc().get_size()));
  }
  primitive.execute(cpu_stream(), args);
  cpu_stream().wait();
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("{}.{}.{}", v->major, v->minor, v->patch);
}

std::string onednn_isa() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::sse41:
      return "sse41";
    case isa::avx:
      return "avx";
    case isa::avx2:
      return "avx2";
    case isa::avx2_vnni:
      return "avx2_vnni";
    case isa::avx512_mic:
      return "avx512_mic";
    case isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case isa::avx512_core:
      return "avx512_core";
    case isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case isa::avx512_core_amx:
      return "avx512_core_amx";
    case isa::all:
      return "all";
    default:
      return "unknown";
  }
}

}  // namespace cadenza
