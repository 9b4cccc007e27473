#include "nn/reference/dense_reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cadenza::reference {

std::vector<double> linear_forward(const std::vector<double>& x, const std::vector<double>& w,
                                   const std::vector<double>& b, int64_t rows, int64_t in,
                                   int64_t out) {
  std::vector<double> y(static_cast<std::size_t>(rows * out));
  for (int64_t n = 0; n < rows; ++n) {
    for (int64_t o = 0; o < out; ++o) {
      double s = b.empty() ? 0.0 : b[o];
      for (int64_t i = 0; i < in; ++i)
        s += w[o * in + i] * x[n * in + i];
      y[n * out + o] = s;
    }
  }
  return y;
}

AttentionResult attention_forward(Score score, const std::vector<double>& queries,
                                  const std::vector<double>& keys, const std::vector<double>& mask,
                                  const AttentionWeights& weights, int64_t steps, int64_t batch,
                                  int64_t length, int64_t query_size, int64_t key_size,
                                  int64_t additive_size) {
  const int64_t Hq = query_size, Hk = key_size, A = additive_size;
  AttentionResult r;
  r.context.assign(static_cast<std::size_t>(steps * batch * Hk), 0.0);
  r.weights.assign(static_cast<std::size_t>(steps * batch * length), 0.0);
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t b = 0; b < batch; ++b) {
      const double* h = queries.data() + (t * batch + b) * Hq;
      std::vector<double> scores(static_cast<std::size_t>(length));
      double max_score = -std::numeric_limits<double>::infinity();
      for (int64_t s = 0; s < length; ++s) {
        const double* k = keys.data() + (s * batch + b) * Hk;
        double e = 0.0;
        if (score == Score::dot) {
          for (int64_t i = 0; i < Hk; ++i)
            e += h[i] * k[i];
        } else if (score == Score::general) {
          for (int64_t i = 0; i < Hq; ++i) {
            double wk = 0.0;
            for (int64_t j = 0; j < Hk; ++j)
              wk += weights.w_a[i * Hk + j] * k[j];
            e += h[i] * wk;
          }
        } else {
          for (int64_t a = 0; a < A; ++a) {
            double z = 0.0;
            for (int64_t i = 0; i < Hq; ++i)
              z += weights.w[a * Hq + i] * h[i];
            for (int64_t j = 0; j < Hk; ++j)
              z += weights.u[a * Hk + j] * k[j];
            e += weights.v[a] * std::tanh(z);
          }
        }
        scores[s] = e;
        if (mask[b * length + s] == 1.0) max_score = std::max(max_score, e);
      }
      double total = 0.0;
      for (int64_t s = 0; s < length; ++s) {
        scores[s] = mask[b * length + s] == 1.0 ? std::exp(scores[s] - max_score) : 0.0;
        total += scores[s];
      }
      for (int64_t s = 0; s < length; ++s) {
        const double w = scores[s] / total;
        r.weights[(t * batch + b) * length + s] = w;
        for (int64_t j = 0; j < Hk; ++j) {
          r.context[(t * batch + b) * Hk + j] += w * keys[(s * batch + b) * Hk + j];
        }
      }
    }
  }
  return r;
}

std::vector<double> combine_forward(const std::vector<double>& context,
                                    const std::vector<double>& queries,
                                    const std::vector<double>& w_c, int64_t rows, int64_t key_size,
                                    int64_t query_size, int64_t out) {
  const int64_t in = key_size + query_size;
  std::vector<double> joined(static_cast<std::size_t>(rows * in));
  for (int64_t n = 0; n < rows; ++n) {
    std::copy_n(context.begin() + n * key_size, key_size, joined.begin() + n * in);
    std::copy_n(queries.begin() + n * query_size, query_size, joined.begin() + n * in + key_size);
  }
  std::vector<double> y = linear_forward(joined, w_c, {}, rows, in, out);
  for (double& v : y)
    v = std::tanh(v);
  return y;
}

double sigmoid_bce(const std::vector<double>& logits, const std::vector<double>& targets,
                   const std::vector<double>& mask, int64_t keys) {
  double total = 0.0;
  for (std::size_t f = 0; f < mask.size(); ++f) {
    if (mask[f] != 1.0) continue;
    for (int64_t k = 0; k < keys; ++k) {
      const double x = logits[f * keys + k], y = targets[f * keys + k];
      // log s(x) = -log(1 + e^-x), log(1 - s(x)) = -log(1 + e^x), each evaluated without overflow
      const double log_s = x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
      const double log_1ms = x >= 0 ? -x - std::log1p(std::exp(-x)) : -std::log1p(std::exp(x));
      total -= y * log_s + (1.0 - y) * log_1ms;
    }
  }
  return total;
}

double softmax_cross_entropy(const std::vector<double>& logits, const std::vector<int32_t>& targets,
                             const std::vector<double>& mask, int64_t classes) {
  double total = 0.0;
  for (std::size_t f = 0; f < mask.size(); ++f) {
    if (mask[f] != 1.0) continue;
    const double* x = logits.data() + f * classes;
    const double m = *std::max_element(x, x + classes);
    double sum = 0.0;
    for (int64_t c = 0; c < classes; ++c)
      sum += std::exp(x[c] - m);
    total -= x[targets[f]] - m - std::log(sum);
  }
  return total;
}

}  // namespace cadenza::reference
