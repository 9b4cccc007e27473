// nn benchmarks. GFLOP/s user counters; the "gemm" benchmark measures the sgemm peak in the same
// run so that the recurrent layers' efficiency is a ratio measured on the same (shared, noisy)
// machine. Recurrent layers: 2 layers, input 88, T = 128; forward FLOPs per layer =
// 2 * G*H * (I_l + H) * B * T with G gate blocks (LSTM 4, GRU 3, plain RNN 1), forward + backward
// = 3 x forward. So a GRU layer's fwd+bwd is 3 x 2*3H(I+H)*B*T; the gates' elementwise work and
// the lbr-GRU's extra recurrent bias are not counted.
#include <benchmark/benchmark.h>

#include "core/engine.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "nn/attention.hpp"
#include "nn/dropout.hpp"
#include "nn/losses.hpp"
#include "nn/lstm.hpp"
#include "nn/recurrent_cells.hpp"

namespace cadenza {
namespace {

Tensor random_tensor(std::vector<int64_t> dims, uint64_t seed) {
  Tensor t(std::move(dims));
  uniform_fill(derive_key(seed, 0xbe), 0, t.data(), static_cast<uint64_t>(t.numel()));
  for (float& v : t.values())
    v = 2.0f * v - 1.0f;
  return t;
}

void set_gflops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// sgemm reference: C [M, N] = A [M, K] x B [K, N], the shape of an LSTM input product.
void BM_gemm_sgemm(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const Tensor a = random_tensor({m, k}, 1), b = random_tensor({k, n}, 2);
  Tensor c({m, n});
  for (auto _ : state) {
    dnnl_sgemm('N', 'N', m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  set_gflops(state, 2.0 * static_cast<double>(m * n * k));
}
BENCHMARK(BM_gemm_sgemm)
    ->Args({4096, 1024, 512})
    ->Args({4096, 2048, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// bf16 reference: C [M, N] f32 = A [M, K] bf16 x B [K, N] bf16 through oneDNN's matmul primitive
// (its brgemm kernels, AMX where the CPU has it), the shapes of BM_gemm_sgemm. B is reordered
// once into the layout the primitive chose, as the bf16 LSTM keeps its weights.
void BM_gemm_bf16(benchmark::State& state) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const dnnl::memory::desc a_desc({m, k}, dt::bf16, tag::ab);
  const dnnl::memory::desc c_desc({m, n}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(
      dnnl::matmul::desc(a_desc, dnnl::memory::desc({k, n}, dt::bf16, tag::any), c_desc),
      cpu_engine());
  const Tensor a32 = random_tensor({m, k}, 1), b32 = random_tensor({k, n}, 2);
  dnnl::memory a(a_desc, cpu_engine()), b(pd.weights_desc(), cpu_engine());
  dnnl::memory c(c_desc, cpu_engine());
  dnnl::memory a32_memory = a32.memory(), b32_memory = b32.memory();
  dnnl::reorder(a32_memory, a).execute(cpu_stream(), a32_memory, a);
  dnnl::reorder(b32_memory, b).execute(cpu_stream(), b32_memory, b);
  const dnnl::matmul matmul(pd);
  for (auto _ : state) {
    matmul.execute(cpu_stream(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    cpu_stream().wait();
    benchmark::DoNotOptimize(c.get_data_handle());
  }
  set_gflops(state, 2.0 * static_cast<double>(m * n * k));
}
BENCHMARK(BM_gemm_bf16)
    ->Args({4096, 1024, 512})
    ->Args({4096, 2048, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Forward FLOPs of a 2-layer stack with `gates` gate blocks (see the top of the file).
double recurrent_forward_flops(double gates, int64_t input, int64_t hidden, int64_t batch,
                               int64_t steps) {
  double forward = 0.0;
  for (int64_t in : {input, hidden}) {
    forward += 2.0 * gates * static_cast<double>(hidden * (in + hidden) * batch * steps);
  }
  return forward;
}

void recurrent_fwd_bwd(benchmark::State& state, RecurrentCell cell, double gates,
                       Precision precision) {
  const int64_t hidden = state.range(0), batch = state.range(1), steps = 128, input = 88;
  RecurrentOptions o;
  o.input_size = input;
  o.hidden_size = hidden;
  o.layers = 2;
  o.precision = precision;
  const auto layer = make_recurrent(cell, o);
  layer->init(1);
  const Tensor x = random_tensor({steps, batch, input}, 3);
  const Tensor dy = random_tensor({steps, batch, hidden}, 4);
  Tensor y, hT, cT, dx, dh0, dc0;
  RecurrentTape tape;
  // Warm-up outside the timing: builds the primitives for this shape (cached afterwards).
  layer->forward(x, Tensor(), Tensor(), y, hT, cT, tape);
  layer->backward(tape, dy, Tensor(), Tensor(), dx, dh0, dc0);
  for (auto _ : state) {
    zero_grads(layer->parameters());
    layer->forward(x, Tensor(), Tensor(), y, hT, cT, tape);
    layer->backward(tape, dy, Tensor(), Tensor(), dx, dh0, dc0);
  }
  set_gflops(state, 3.0 * recurrent_forward_flops(gates, input, hidden, batch, steps));
}
void BM_lstm_f32_fwd_bwd(benchmark::State& state) {
  recurrent_fwd_bwd(state, RecurrentCell::lstm, 4, Precision::f32);
}
void BM_lstm_bf16_fwd_bwd(benchmark::State& state) {
  recurrent_fwd_bwd(state, RecurrentCell::lstm, 4, Precision::bf16);
}
void BM_gru_f32_fwd_bwd(benchmark::State& state) {
  recurrent_fwd_bwd(state, RecurrentCell::gru, 3, Precision::f32);
}
void BM_rnn_tanh_f32_fwd_bwd(benchmark::State& state) {
  recurrent_fwd_bwd(state, RecurrentCell::rnn_tanh, 1, Precision::f32);
}
BENCHMARK(BM_lstm_f32_fwd_bwd)
    ->ArgsProduct({{256, 512}, {32, 64}})
    ->ArgNames({"H", "B"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lstm_bf16_fwd_bwd)
    ->ArgsProduct({{256, 512}, {32, 64}})
    ->ArgNames({"H", "B"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_gru_f32_fwd_bwd)
    ->ArgsProduct({{256, 512}, {32, 64}})
    ->ArgNames({"H", "B"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rnn_tanh_f32_fwd_bwd)
    ->ArgsProduct({{256, 512}, {32, 64}})
    ->ArgNames({"H", "B"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Step-wise LSTM: T = 128 single-step calls forward and backward (decoder with input feeding).
void BM_lstm_f32_stepwise_fwd_bwd(benchmark::State& state) {
  const int64_t hidden = state.range(0), batch = state.range(1), steps = 128, input = 88;
  LstmOptions o;
  o.input_size = input;
  o.hidden_size = hidden;
  o.layers = 2;
  Lstm lstm(o);
  lstm.init(1);
  const Tensor x_t = random_tensor({batch, input}, 3), dy_t = random_tensor({batch, hidden}, 4);
  std::vector<LstmTape> tapes(steps);
  std::vector<Tensor> h(steps + 1), c(steps + 1);
  for (auto _ : state) {
    lstm.begin_steps();
    Tensor y_t;
    for (int64_t t = 0; t < steps; ++t) {
      lstm.step_forward(x_t, h[t], c[t], y_t, h[t + 1], c[t + 1], tapes[t]);
    }
    Tensor dh, dc, dx_t, dh_in, dc_in;
    for (int64_t t = steps - 1; t >= 0; --t) {
      lstm.step_backward(tapes[t], dy_t, dh, dc, dx_t, dh_in, dc_in);
      std::swap(dh, dh_in);
      std::swap(dc, dc_in);
    }
    lstm.end_step_backward();
  }
  set_gflops(state, 3.0 * recurrent_forward_flops(4, input, hidden, batch, steps));
}
BENCHMARK(BM_lstm_f32_stepwise_fwd_bwd)
    ->Args({256, 32})
    ->ArgNames({"H", "B"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Attention over S = 128 encoder states, B = 32, H = 256: batched Luong (T = 128 queries at once)
// and one Bahdanau step, each forward + backward.
void BM_attention_batched_fwd_bwd(benchmark::State& state) {
  const auto score = static_cast<AttentionScore>(state.range(0));
  const int64_t T = 128, S = 128, B = 32, H = 256;
  Attention attention({score, H, H, H});
  attention.init(1, 1);
  const Tensor q = random_tensor({T, B, H}, 1), k = random_tensor({S, B, H}, 2);
  const Tensor dc = random_tensor({T, B, H}, 3);
  Tensor mask({B, S});
  mask.fill(1.0f);
  AttentionKeys keys;
  AttentionTape tape;
  Tensor context, weights, dq, dk;
  for (auto _ : state) {
    attention.prepare_keys(k, mask, keys);
    attention.attend(q, keys, context, weights, tape);
    attention.attend_backward(tape, keys, dc, dq);
    attention.keys_backward(keys, dk);
  }
  // scores and context products, forward and backward (2 products each way): 3 x 2 x 2BTSH
  set_gflops(state, 3.0 * 2.0 * 2.0 * static_cast<double>(B * T * S * H));
}
BENCHMARK(BM_attention_batched_fwd_bwd)
    ->Arg(static_cast<int>(AttentionScore::dot))
    ->Arg(static_cast<int>(AttentionScore::general))
    ->ArgName("score")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_attention_additive_step_fwd_bwd(benchmark::State& state) {
  const int64_t S = 128, B = 32, H = 256, A = 256;
  Attention attention({AttentionScore::additive, H, H, A});
  attention.init(1, 1);
  const Tensor q = random_tensor({1, B, H}, 1), k = random_tensor({S, B, H}, 2);
  const Tensor dc = random_tensor({1, B, H}, 3);
  Tensor mask({B, S});
  mask.fill(1.0f);
  AttentionKeys keys;
  attention.prepare_keys(k, mask, keys);
  AttentionTape tape;
  Tensor context, weights, dq;
  for (auto _ : state) {
    attention.attend(q, keys, context, weights, tape);
    attention.attend_backward(tape, keys, dc, dq);
  }
}
BENCHMARK(BM_attention_additive_step_fwd_bwd)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_loss_sigmoid_bce(benchmark::State& state) {
  const int64_t T = 128, B = 32, K = 88;
  const Tensor logits = random_tensor({T, B, K}, 1);
  Tensor targets = random_tensor({T, B, K}, 2), mask({T, B}), grad;
  for (float& v : targets.values())
    v = v > 0.8f ? 1.0f : 0.0f;
  mask.fill(1.0f);
  SigmoidBceLoss loss;
  for (auto _ : state) {
    benchmark::DoNotOptimize(loss.compute(logits, targets, mask, grad).total);
  }
  state.SetItemsProcessed(state.iterations() * T * B * K);
}
BENCHMARK(BM_loss_sigmoid_bce)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_loss_softmax_cross_entropy(benchmark::State& state) {
  const int64_t T = 128, B = 32, V = 512;
  const Tensor logits = random_tensor({T, B, V}, 1);
  std::vector<int32_t> targets(T * B);
  for (int64_t i = 0; i < T * B; ++i)
    targets[i] = static_cast<int32_t>(i % V);
  Tensor mask({T, B}), grad;
  mask.fill(1.0f);
  SoftmaxCrossEntropyLoss loss;
  for (auto _ : state)
    benchmark::DoNotOptimize(loss.compute(logits, targets, mask, grad).total);
  state.SetItemsProcessed(state.iterations() * T * B * V);
}
BENCHMARK(BM_loss_softmax_cross_entropy)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Dropout masks: the uniform draws (Philox4x32-10, 4 floats per block) and the whole forward
// (draws, threshold, oneDNN binary_mul) at the melody peer's shape: T = 128, B = 64, H = 128.
void BM_uniform_fill(benchmark::State& state) {
  std::vector<float> values(static_cast<size_t>(state.range(0)));
  const PhiloxKey key = derive_key(1, 2);
  uint64_t block = 0;
  for (auto _ : state) {
    uniform_fill(key, block, values.data(), values.size());
    block += values.size() / 4;
    benchmark::DoNotOptimize(values.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_uniform_fill)->Arg(128 * 64 * 128)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_dropout_forward(benchmark::State& state) {
  const int64_t T = 128, B = 64, H = 128;
  const Tensor x = random_tensor({T, B, H}, 1);
  Tensor y, mask;
  Dropout dropout(0.5f, 1);
  uint64_t step = 0;
  for (auto _ : state) {
    dropout.set_step(1, step++);
    dropout.forward(x, y, mask);
  }
  state.SetItemsProcessed(state.iterations() * T * B * H);
}
BENCHMARK(BM_dropout_forward)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cadenza
