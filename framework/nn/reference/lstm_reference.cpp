#include "nn/reference/lstm_reference.hpp"

#include <cmath>

namespace cadenza::reference {
namespace {

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

}  // namespace

LstmResult lstm_forward(const std::vector<double>& x, const std::vector<double>& h0,
                        const std::vector<double>& c0, const std::vector<LstmLayerWeights>& layers,
                        int64_t steps, int64_t batch, int64_t input_size, int64_t hidden_size,
                        bool bidirectional) {
  const int64_t D = bidirectional ? 2 : 1, H = hidden_size, L = static_cast<int64_t>(layers.size());
  LstmResult result;
  result.hT.assign(static_cast<std::size_t>(L * D * batch * H), 0.0);
  result.cT = result.hT;
  std::vector<double> input = x;
  int64_t in = input_size;
  for (int64_t l = 0; l < L; ++l) {
    const LstmLayerWeights& w = layers[static_cast<std::size_t>(l)];
    std::vector<double> output(static_cast<std::size_t>(steps * batch * D * H), 0.0);
    for (int64_t d = 0; d < D; ++d) {
      const double* w_ih = w.w_ih.data() + d * 4 * H * in;
      const double* w_hh = w.w_hh.data() + d * 4 * H * H;
      const double* b = w.b.data() + d * 4 * H;
      const int64_t row = (l * D + d) * batch * H;
      std::vector<double> h(static_cast<std::size_t>(batch * H), 0.0), c = h;
      if (!h0.empty()) h.assign(h0.begin() + row, h0.begin() + row + batch * H);
      if (!c0.empty()) c.assign(c0.begin() + row, c0.begin() + row + batch * H);
      for (int64_t step = 0; step < steps; ++step) {
        const int64_t t = d == 0 ? step : steps - 1 - step;
        std::vector<double> h_next(h.size()), c_next(c.size());
        for (int64_t n = 0; n < batch; ++n) {
          const double* xt = input.data() + (t * batch + n) * in;
          const double* hn = h.data() + n * H;
          for (int64_t j = 0; j < H; ++j) {
            double gate[4];
            for (int64_t g = 0; g < 4; ++g) {
              const int64_t r = g * H + j;
              double s = b[r];
              for (int64_t k = 0; k < in; ++k)
                s += w_ih[r * in + k] * xt[k];
              for (int64_t k = 0; k < H; ++k)
                s += w_hh[r * H + k] * hn[k];
              gate[g] = s;
            }
            const double i = sigmoid(gate[0]), f = sigmoid(gate[1]), g = std::tanh(gate[2]),
                         o = sigmoid(gate[3]);
            const double cn = f * c[n * H + j] + i * g;
            c_next[n * H + j] = cn;
            h_next[n * H + j] = o * std::tanh(cn);
            output[((t * batch + n) * D + d) * H + j] = h_next[n * H + j];
          }
        }
        h = h_next;
        c = c_next;
      }
      std::copy(h.begin(), h.end(), result.hT.begin() + row);
      std::copy(c.begin(), c.end(), result.cT.begin() + row);
    }
    input = std::move(output);
    in = D * H;
  }
  result.y = std::move(input);
  return result;
}

}  // namespace cadenza::reference
