// PyTorch 1.13 cross-check: the test writes inputs and weights, runs
// tests/python/torch_nn_check.py once (torch autograd in float64), and compares every forward
// value and gradient of the stacked and bidirectional LSTM, GRU and plain RNN (tanh and relu),
// each attention score with the combine layer, and both losses. Tolerance: |ours - torch| <=
// 1e-5 * (|torch| + max|torch| over that tensor), i.e. 1e-5 relative to the tensor's scale, in
// f32.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "nn/attention.hpp"
#include "nn/gru.hpp"
#include "nn/losses.hpp"
#include "nn/lstm.hpp"
#include "nn/rnn.hpp"
#include "nn_test_util.hpp"

namespace cadenza {
namespace {

namespace fs = std::filesystem;
using testing::random_tensor;
using testing::to_double;

class TorchExchange {
 public:
  explicit TorchExchange(fs::path dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }

  void put(const std::string& name, const Tensor& t) {
    std::ofstream out(dir_ / (name + ".bin"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(t.data()),
              static_cast<std::streamsize>(t.numel() * sizeof(float)));
    manifest_["tensors"][name] = t.dims();
  }
  nlohmann::json& config() { return manifest_["config"]; }

  // Runs the script; returns its exit status and output.
  int run(std::string& log) {
    std::ofstream(dir_ / "inputs.json") << manifest_.dump();
    const std::string script = std::string(CADENZA_SOURCE_DIR) + "/tests/python/torch_nn_check.py";
    const std::string command = "/usr/bin/python3 '" + script + "' '" + dir_.string() + "' 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return -1;
    char buffer[512];
    while (fgets(buffer, sizeof buffer, pipe))
      log += buffer;
    const int status = pclose(pipe);
    if (status == 0) std::ifstream(dir_ / "outputs.json") >> outputs_;
    return status;
  }

  std::vector<double> get(const std::string& name) const {
    if (!outputs_["tensors"].contains(name)) {
      ADD_FAILURE() << "torch produced no \"" << name << "\"";
      return {};
    }
    int64_t count = 1;
    for (int64_t d : outputs_["tensors"][name].get<std::vector<int64_t>>())
      count *= d;
    std::vector<float> values(static_cast<std::size_t>(count));
    std::ifstream in(dir_ / ("out_" + name + ".bin"), std::ios::binary);
    in.read(reinterpret_cast<char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(float)));
    return std::vector<double>(values.begin(), values.end());
  }

 private:
  fs::path dir_;
  nlohmann::json manifest_;
  nlohmann::json outputs_;
};

::testing::AssertionResult matches(const std::vector<double>& ours,
                                   const std::vector<double>& torch) {
  double scale = 0.0;
  for (double v : torch)
    scale = std::max(scale, std::abs(v));
  return testing::all_close(ours, torch, 1e-5, 1e-5 * scale);
}

struct LstmRun {
  LstmOptions options;
  std::unique_ptr<Lstm> lstm;
  Tensor y, hT, cT, dx, dh0, dc0;
};

LstmRun run_lstm(TorchExchange& io, const std::string& name, LstmOptions o, int64_t T, int64_t B,
                 uint64_t seed) {
  LstmRun r{o, std::make_unique<Lstm>(o), {}, {}, {}, {}, {}, {}};
  r.lstm->init(seed);
  const int64_t rows = r.lstm->state_rows();
  const Tensor x = random_tensor({T, B, o.input_size}, seed + 1);
  const Tensor h0 = random_tensor({rows, B, o.hidden_size}, seed + 2, 0.5f);
  const Tensor c0 = random_tensor({rows, B, o.hidden_size}, seed + 3, 0.5f);
  const Tensor wy = random_tensor({T, B, r.lstm->output_size()}, seed + 4);
  const Tensor wh = random_tensor({rows, B, o.hidden_size}, seed + 5);
  const Tensor wc = random_tensor({rows, B, o.hidden_size}, seed + 6);
  LstmTape tape;
  r.lstm->forward(x, h0, c0, r.y, r.hT, r.cT, tape);
  zero_grads(r.lstm->parameters());
  r.lstm->backward(tape, wy, wh, wc, r.dx, r.dh0, r.dc0);
  for (const auto& [key, value] : r.lstm->export_torch())
    io.put(name + "." + key, value);
  io.put(name + ".x", x);
  io.put(name + ".h0", h0);
  io.put(name + ".c0", c0);
  io.put(name + ".wy", wy);
  io.put(name + ".wh", wh);
  io.put(name + ".wc", wc);
  io.config()[name] = {{"input", o.input_size},
                       {"hidden", o.hidden_size},
                       {"layers", o.layers},
                       {"bidirectional", o.bidirectional}};
  return r;
}

void check_lstm(const TorchExchange& io, const std::string& name, LstmRun& r) {
  EXPECT_TRUE(matches(to_double(r.y), io.get(name + ".y"))) << name << " y";
  EXPECT_TRUE(matches(to_double(r.hT), io.get(name + ".hT"))) << name << " hT";
  EXPECT_TRUE(matches(to_double(r.cT), io.get(name + ".cT"))) << name << " cT";
  EXPECT_TRUE(matches(to_double(r.dx), io.get(name + ".dx"))) << name << " dx";
  EXPECT_TRUE(matches(to_double(r.dh0), io.get(name + ".dh0"))) << name << " dh0";
  EXPECT_TRUE(matches(to_double(r.dc0), io.get(name + ".dc0"))) << name << " dc0";
  const auto params = r.lstm->parameters();
  for (int64_t l = 0; l < r.options.layers; ++l) {
    const int64_t directions = r.options.bidirectional ? 2 : 1;
    for (int64_t d = 0; d < directions; ++d) {
      const std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      const char* keys[3] = {"weight_ih", "weight_hh", "bias_ih"};
      for (int k = 0; k < 3; ++k) {
        const Tensor& grad = params[3 * l + k]->grad;
        const int64_t per_direction = grad.numel() / directions;
        std::vector<double> ours(grad.values().begin() + d * per_direction,
                                 grad.values().begin() + (d + 1) * per_direction);
        EXPECT_TRUE(matches(ours, io.get(name + ".grad." + keys[k] + suffix)))
            << name << " grad " << keys[k] << suffix;
      }
    }
  }
}

// A GRU or plain RNN (the same interface) and what its run leaves for the comparison.
template <class Layer>
struct CellRun {
  std::unique_ptr<Layer> layer;
  Tensor y, hT, dx, dh0;
};

// Like run_lstm without the cell state: loss = <wy, y> + <wh, hT>. `cell` is "gru", "rnn_tanh"
// or "rnn_relu".
template <class Layer, class Tape, class Options>
CellRun<Layer> run_cell(TorchExchange& io, const std::string& name, const std::string& cell,
                        const Options& o, int64_t T, int64_t B, uint64_t seed) {
  CellRun<Layer> r{std::make_unique<Layer>(o), {}, {}, {}, {}};
  r.layer->init(seed);
  const int64_t rows = r.layer->state_rows();
  const Tensor x = random_tensor({T, B, o.input_size}, seed + 1);
  const Tensor h0 = random_tensor({rows, B, o.hidden_size}, seed + 2, 0.5f);
  const Tensor wy = random_tensor({T, B, r.layer->output_size()}, seed + 4);
  const Tensor wh = random_tensor({rows, B, o.hidden_size}, seed + 5);
  Tape tape;
  r.layer->forward(x, h0, r.y, r.hT, tape);
  zero_grads(r.layer->parameters());
  r.layer->backward(tape, wy, wh, r.dx, r.dh0);
  for (const auto& [key, value] : r.layer->export_torch())
    io.put(name + "." + key, value);
  io.put(name + ".x", x);
  io.put(name + ".h0", h0);
  io.put(name + ".wy", wy);
  io.put(name + ".wh", wh);
  io.config()[name] = {{"cell", cell},
                       {"input", o.input_size},
                       {"hidden", o.hidden_size},
                       {"layers", o.layers},
                       {"bidirectional", o.bidirectional}};
  return r;
}

// keys: PyTorch's names of one layer's parameters, in the layer's order.
template <class Layer>
void check_cell(const TorchExchange& io, const std::string& name, const CellRun<Layer>& r,
                const std::vector<std::string>& keys) {
  EXPECT_TRUE(matches(to_double(r.y), io.get(name + ".y"))) << name << " y";
  EXPECT_TRUE(matches(to_double(r.hT), io.get(name + ".hT"))) << name << " hT";
  EXPECT_TRUE(matches(to_double(r.dx), io.get(name + ".dx"))) << name << " dx";
  EXPECT_TRUE(matches(to_double(r.dh0), io.get(name + ".dh0"))) << name << " dh0";
  const auto params = r.layer->parameters();
  const int64_t directions = r.layer->directions();
  for (int64_t l = 0; l < r.layer->options().layers; ++l) {
    for (int64_t d = 0; d < directions; ++d) {
      const std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      for (std::size_t k = 0; k < keys.size(); ++k) {
        const Tensor& grad = params[l * keys.size() + k]->grad;
        const int64_t per_direction = grad.numel() / directions;
        std::vector<double> ours(grad.values().begin() + d * per_direction,
                                 grad.values().begin() + (d + 1) * per_direction);
        EXPECT_TRUE(matches(ours, io.get(name + ".grad." + keys[k] + suffix)))
            << name << " grad " << keys[k] << suffix;
      }
    }
  }
}

struct AttentionRun {
  Tensor out, weights_tm, dq, dk;
  std::vector<std::pair<std::string, std::vector<double>>> grads;
};

AttentionRun run_attention(TorchExchange& io, AttentionScore score, const std::string& name) {
  const int64_t T = 5, B = 3, S = 6, Hq = 8, A = 7, out = 6;
  const int64_t Hk = score == AttentionScore::dot ? Hq : 10;
  Attention attention({score, Hq, Hk, A});
  AttentionCombine combine(Hk, Hq, out);
  attention.init(31, 1);
  combine.init(31, 2);
  const Tensor q = random_tensor({T, B, Hq}, 41), k = random_tensor({S, B, Hk}, 42);
  const Tensor wy = random_tensor({T, B, out}, 43);
  Tensor mask({B, S});
  mask.fill(1.0f);
  mask[1 * S + 5] = mask[2 * S + 4] = mask[2 * S + 5] = 0.0f;
  AttentionKeys prepared;
  AttentionTape tape;
  AttentionCombineTape combine_tape;
  AttentionRun r;
  Tensor context, dcontext, dq_combine, dq_attention;
  zero_grads(attention.parameters());
  zero_grads(combine.parameters());
  // Luong dot/general run batched over all steps; additive (Bahdanau) runs step by step.
  attention.prepare_keys(k, mask, prepared);
  if (score == AttentionScore::additive) {
    context.reset({T, B, Hk});
    r.weights_tm.reset({T, B, S});
    std::vector<AttentionTape> tapes(T);
    for (int64_t t = 0; t < T; ++t) {
      Tensor q_t({1, B, Hq}), c_t, w_t;
      std::copy_n(q.data() + t * B * Hq, B * Hq, q_t.data());
      attention.attend(q_t, prepared, c_t, w_t, tapes[t]);
      std::copy_n(c_t.data(), B * Hk, context.data() + t * B * Hk);
      std::copy_n(w_t.data(), B * S, r.weights_tm.data() + t * B * S);
    }
    combine.forward(context, q, r.out, combine_tape);
    combine.backward(combine_tape, wy, dcontext, dq_combine);
    dq_attention.reset({T, B, Hq});
    for (int64_t t = T - 1; t >= 0; --t) {
      Tensor dc_t({1, B, Hk}), dq_t;
      std::copy_n(dcontext.data() + t * B * Hk, B * Hk, dc_t.data());
      attention.attend_backward(tapes[t], prepared, dc_t, dq_t);
      std::copy_n(dq_t.data(), B * Hq, dq_attention.data() + t * B * Hq);
    }
  } else {
    attention.attend(q, prepared, context, r.weights_tm, tape);
    combine.forward(context, q, r.out, combine_tape);
    combine.backward(combine_tape, wy, dcontext, dq_combine);
    attention.attend_backward(tape, prepared, dcontext, dq_attention);
  }
  attention.keys_backward(prepared, r.dk);
  r.dq = dq_attention;
  for (int64_t i = 0; i < r.dq.numel(); ++i)
    r.dq[i] += dq_combine[i];

  io.put(name + ".queries", q);
  io.put(name + ".keys", k);
  io.put(name + ".mask", mask);
  io.put(name + ".wy", wy);
  io.put(name + ".W_c", combine.parameters()[0]->value);
  for (Parameter* p : attention.parameters()) {
    io.put(name + "." + p->name, p->value);
    r.grads.emplace_back(p->name, to_double(p->grad));
  }
  r.grads.emplace_back("W_c", to_double(combine.parameters()[0]->grad));
  return r;
}

TEST(NnTorch, LayersMatchPyTorchAutograd) {
  const fs::path dir =
      fs::temp_directory_path() / ("cadenza_nn_torch_" + std::to_string(::getpid()));
  TorchExchange io(dir);

  LstmOptions stacked;
  stacked.input_size = 5;
  stacked.hidden_size = 8;
  stacked.layers = 2;
  LstmRun lstm_stacked = run_lstm(io, "lstm_stacked", stacked, 7, 3, 100);
  LstmOptions bi = stacked;
  bi.bidirectional = true;
  LstmRun lstm_bi = run_lstm(io, "lstm_bi", bi, 6, 2, 200);

  GruOptions gru;
  gru.input_size = 5;
  gru.hidden_size = 8;
  gru.layers = 2;
  auto gru_stacked = run_cell<Gru, GruTape>(io, "gru_stacked", "gru", gru, 7, 3, 300);
  gru.bidirectional = true;
  auto gru_bi = run_cell<Gru, GruTape>(io, "gru_bi", "gru", gru, 6, 2, 400);
  std::map<std::string, CellRun<Rnn>> rnns;
  for (const RnnActivation activation : {RnnActivation::tanh, RnnActivation::relu}) {
    const std::string cell = activation == RnnActivation::tanh ? "rnn_tanh" : "rnn_relu";
    RnnOptions rnn;
    rnn.input_size = 5;
    rnn.hidden_size = 8;
    rnn.layers = 2;
    rnn.activation = activation;
    rnns[cell + "_stacked"] = run_cell<Rnn, RnnTape>(io, cell + "_stacked", cell, rnn, 7, 3, 500);
    rnn.bidirectional = true;
    rnns[cell + "_bi"] = run_cell<Rnn, RnnTape>(io, cell + "_bi", cell, rnn, 6, 2, 600);
  }

  std::map<std::string, AttentionRun> attention;
  for (auto [score, name] : {std::pair{AttentionScore::dot, "attention_dot"},
                             std::pair{AttentionScore::general, "attention_general"},
                             std::pair{AttentionScore::additive, "attention_additive"}}) {
    attention[name] = run_attention(io, score, name);
  }

  const int64_t T = 4, B = 3, K = 88, V = 11;
  Tensor frame_mask({T, B});
  frame_mask.fill(1.0f);
  frame_mask[T * B - 1] = frame_mask[T * B - 4] = 0.0f;
  const Tensor bce_logits = random_tensor({T, B, K}, 301, 6.0f);
  Tensor bce_targets = random_tensor({T, B, K}, 302);
  for (float& v : bce_targets.values())
    v = v > 0.6f ? 1.0f : 0.0f;
  Tensor bce_grad;
  const LossValue bce = SigmoidBceLoss().compute(bce_logits, bce_targets, frame_mask, bce_grad);
  io.put("bce.logits", bce_logits);
  io.put("bce.targets", bce_targets);
  io.put("bce.mask", frame_mask);

  const Tensor ce_logits = random_tensor({T, B, V}, 303, 4.0f);
  std::vector<int32_t> ce_targets(T * B);
  Tensor ce_targets_f({T, B});
  for (int64_t i = 0; i < T * B; ++i) {
    ce_targets[i] = static_cast<int32_t>((i * 7) % V);
    ce_targets_f[i] = static_cast<float>(ce_targets[i]);
  }
  SoftmaxCrossEntropyLoss ce_loss;
  Tensor ce_grad;
  const LossValue ce = ce_loss.compute(ce_logits, ce_targets, frame_mask, ce_grad);
  io.put("ce.logits", ce_logits);
  io.put("ce.targets", ce_targets_f);
  io.put("ce.mask", frame_mask);

  std::string log;
  ASSERT_EQ(io.run(log), 0) << "python3 + torch failed (scripts/test.sh installs "
                               "python3-torch):\n"
                            << log;
  check_lstm(io, "lstm_stacked", lstm_stacked);
  check_lstm(io, "lstm_bi", lstm_bi);
  check_cell(io, "gru_stacked", gru_stacked, {"weight_ih", "weight_hh", "bias_ih", "bias_hh"});
  check_cell(io, "gru_bi", gru_bi, {"weight_ih", "weight_hh", "bias_ih", "bias_hh"});
  for (const auto& [name, r] : rnns)
    check_cell(io, name, r, {"weight_ih", "weight_hh", "bias_ih"});
  for (auto& [name, r] : attention) {
    EXPECT_TRUE(matches(to_double(r.out), io.get(name + ".out"))) << name << " out";
    EXPECT_TRUE(matches(to_double(r.weights_tm), io.get(name + ".weights"))) << name;
    EXPECT_TRUE(matches(to_double(r.dq), io.get(name + ".dqueries"))) << name << " dqueries";
    EXPECT_TRUE(matches(to_double(r.dk), io.get(name + ".dkeys"))) << name << " dkeys";
    for (const auto& [param, grad] : r.grads) {
      EXPECT_TRUE(matches(grad, io.get(name + ".grad." + param))) << name << " grad " << param;
    }
  }
  EXPECT_TRUE(matches({bce.total}, io.get("bce.loss")));
  EXPECT_TRUE(matches(to_double(bce_grad), io.get("bce.grad")));
  EXPECT_TRUE(matches({ce.total}, io.get("ce.loss")));
  EXPECT_TRUE(matches(to_double(ce_grad), io.get("ce.grad")));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cadenza
