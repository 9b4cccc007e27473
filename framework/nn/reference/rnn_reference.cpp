#include "nn/reference/rnn_reference.hpp"

#include <algorithm>
#include <cmath>

namespace cadenza::reference {
namespace {

// One direction of one layer, in processing order s = 0 .. T-1 (time t = s, or T-1-s in
// reverse): h [T+1, B, H] with h[0] the initial state, and the pre-activations a [T, B, H].
struct Trace {
  std::vector<double> h, a;
};

int64_t time_of(int64_t step, int64_t steps, bool reverse) {
  return reverse ? steps - 1 - step : step;
}

double activate(Nonlinearity act, double a) {
  return act == Nonlinearity::tanh ? std::tanh(a) : std::max(a, 0.0);
}

// d act / d a at pre-activation a with output h.
double slope(Nonlinearity act, double a, double h) {
  return act == Nonlinearity::tanh ? 1.0 - h * h : (a > 0.0 ? 1.0 : 0.0);
}

// input [T, B, K]; w_ih [H, K], w_hh [H, H], b [H]; h0 [B, H] (nullptr = zeros).
Trace run_direction(const std::vector<double>& input, const double* w_ih, const double* w_hh,
                    const double* bias, const double* h0, Nonlinearity act, int64_t steps,
                    int64_t batch, int64_t in, int64_t H, bool reverse) {
  const auto size = static_cast<std::size_t>(steps * batch * H);
  Trace tr{std::vector<double>(size + static_cast<std::size_t>(batch * H), 0.0),
           std::vector<double>(size)};
  if (h0) std::copy(h0, h0 + batch * H, tr.h.begin());
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = time_of(s, steps, reverse);
    for (int64_t b = 0; b < batch; ++b) {
      const double* xt = input.data() + (t * batch + b) * in;
      const double* hp = tr.h.data() + (s * batch + b) * H;
      for (int64_t j = 0; j < H; ++j) {
        double a = bias[j];
        for (int64_t k = 0; k < in; ++k)
          a += w_ih[j * in + k] * xt[k];
        for (int64_t k = 0; k < H; ++k)
          a += w_hh[j * H + k] * hp[k];
        const int64_t at = (s * batch + b) * H + j;
        tr.a[at] = a;
        tr.h[at + batch * H] = activate(act, a);
      }
    }
  }
  return tr;
}

// Every layer's input and every direction's trace, layer by layer.
struct Pass {
  std::vector<std::vector<double>> inputs;  // [L] of [T, B, I_l]
  std::vector<std::vector<Trace>> traces;   // [L][D]
  std::vector<double> y;                    // [T, B, D*H]
};

Pass run(const std::vector<double>& x, const std::vector<double>& h0,
         const std::vector<RnnLayerWeights>& layers, Nonlinearity act, int64_t steps, int64_t batch,
         int64_t input_size, int64_t H, bool bidirectional) {
  const int64_t D = bidirectional ? 2 : 1, L = static_cast<int64_t>(layers.size());
  Pass pass;
  std::vector<double> input = x;
  int64_t in = input_size;
  for (int64_t l = 0; l < L; ++l) {
    const RnnLayerWeights& w = layers[static_cast<std::size_t>(l)];
    std::vector<double> output(static_cast<std::size_t>(steps * batch * D * H));
    std::vector<Trace> traces;
    for (int64_t d = 0; d < D; ++d) {
      const double* h_init = h0.empty() ? nullptr : h0.data() + (l * D + d) * batch * H;
      traces.push_back(run_direction(input, w.w_ih.data() + d * H * in, w.w_hh.data() + d * H * H,
                                     w.b.data() + d * H, h_init, act, steps, batch, in, H, d == 1));
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t t = time_of(s, steps, d == 1);
        for (int64_t b = 0; b < batch; ++b) {
          for (int64_t j = 0; j < H; ++j) {
            output[((t * batch + b) * D + d) * H + j] =
                traces.back().h[((s + 1) * batch + b) * H + j];
          }
        }
      }
    }
    pass.inputs.push_back(std::move(input));
    pass.traces.push_back(std::move(traces));
    input = std::move(output);
    in = D * H;
  }
  pass.y = std::move(input);
  return pass;
}

}  // namespace

RnnResult rnn_forward(const std::vector<double>& x, const std::vector<double>& h0,
                      const std::vector<RnnLayerWeights>& layers, Nonlinearity act, int64_t steps,
                      int64_t batch, int64_t input_size, int64_t hidden_size, bool bidirectional) {
  const int64_t D = bidirectional ? 2 : 1, H = hidden_size, L = static_cast<int64_t>(layers.size());
  Pass pass = run(x, h0, layers, act, steps, batch, input_size, H, bidirectional);
  RnnResult result{std::move(pass.y),
                   std::vector<double>(static_cast<std::size_t>(L * D * batch * H))};
  for (int64_t l = 0; l < L; ++l) {
    for (int64_t d = 0; d < D; ++d) {
      const auto& h = pass.traces[static_cast<std::size_t>(l)][static_cast<std::size_t>(d)].h;
      std::copy(h.end() - batch * H, h.end(), result.hT.begin() + (l * D + d) * batch * H);
    }
  }
  return result;
}

RnnGradients rnn_backward(const std::vector<double>& x, const std::vector<double>& h0,
                          const std::vector<RnnLayerWeights>& layers, Nonlinearity act,
                          const std::vector<double>& dy, const std::vector<double>& dhT,
                          int64_t steps, int64_t batch, int64_t input_size, int64_t hidden_size,
                          bool bidirectional) {
  const int64_t D = bidirectional ? 2 : 1, H = hidden_size, L = static_cast<int64_t>(layers.size());
  const Pass pass = run(x, h0, layers, act, steps, batch, input_size, H, bidirectional);
  RnnGradients grads;
  grads.dh0.assign(static_cast<std::size_t>(L * D * batch * H), 0.0);
  for (const RnnLayerWeights& w : layers) {
    grads.layers.push_back({std::vector<double>(w.w_ih.size()), std::vector<double>(w.w_hh.size()),
                            std::vector<double>(w.b.size())});
  }
  std::vector<double> d_out = dy;  // d loss / d (this layer's output) [T, B, D*H]
  for (int64_t l = L - 1; l >= 0; --l) {
    const auto li = static_cast<std::size_t>(l);
    const std::vector<double>& input = pass.inputs[li];
    const int64_t in = l == 0 ? input_size : D * H;
    const RnnLayerWeights& w = layers[li];
    RnnLayerWeights& g = grads.layers[li];
    std::vector<double> d_in(input.size(), 0.0);
    for (int64_t d = 0; d < D; ++d) {
      const Trace& tr = pass.traces[li][static_cast<std::size_t>(d)];
      const double* w_ih = w.w_ih.data() + d * H * in;
      const double* w_hh = w.w_hh.data() + d * H * H;
      double* gw_ih = g.w_ih.data() + d * H * in;
      double* gw_hh = g.w_hh.data() + d * H * H;
      double* gb = g.b.data() + d * H;
      const int64_t row = (l * D + d) * batch * H;
      std::vector<double> dh(static_cast<std::size_t>(batch * H), 0.0);
      if (!dhT.empty()) std::copy(dhT.begin() + row, dhT.begin() + row + batch * H, dh.begin());
      for (int64_t s = steps - 1; s >= 0; --s) {
        const int64_t t = time_of(s, steps, d == 1);
        std::vector<double> dh_prev(dh.size(), 0.0);
        for (int64_t b = 0; b < batch; ++b) {
          const double* xt = input.data() + (t * batch + b) * in;
          const double* hp = tr.h.data() + (s * batch + b) * H;
          double* dxt = d_in.data() + (t * batch + b) * in;
          for (int64_t j = 0; j < H; ++j) {
            const int64_t at = (s * batch + b) * H + j;
            const double dht = dh[b * H + j] + d_out[((t * batch + b) * D + d) * H + j];
            const double da = dht * slope(act, tr.a[at], tr.h[at + batch * H]);
            gb[j] += da;
            for (int64_t k = 0; k < in; ++k) {
              gw_ih[j * in + k] += da * xt[k];
              dxt[k] += da * w_ih[j * in + k];
            }
            for (int64_t k = 0; k < H; ++k) {
              gw_hh[j * H + k] += da * hp[k];
              dh_prev[b * H + k] += da * w_hh[j * H + k];
            }
          }
        }
        dh = std::move(dh_prev);
      }
      std::copy(dh.begin(), dh.end(), grads.dh0.begin() + row);
    }
    d_out = std::move(d_in);
  }
  grads.dx = std::move(d_out);
  return grads;
}

}  // namespace cadenza::reference
