#include "nn/attention.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace cadenza {

using dnnl::algorithm;
using dnnl::memory;
using dt = dnnl::memory::data_type;

namespace {

memory view(const memory::dims& dims, const memory::dims& strides, const float* buffer) {
  return wrap_memory(memory::desc(dims, dt::f32, strides), buffer);
}

// A [Tq, B, H] time-major buffer seen as [B, Tq, H].
memory batch_major_view(int64_t steps, int64_t batch, int64_t width, const float* buffer) {
  return view({batch, steps, width}, {width, batch * width, 1}, buffer);
}

int64_t checked_additive_size(const AttentionOptions& o) {
  return o.score == AttentionScore::additive ? o.additive_size : 1;
}

}  // namespace

Attention::Attention(const AttentionOptions& options)
    : options_(options),
      query_projection_(std::max<int64_t>(1, options.query_size), checked_additive_size(options),
                        false),
      key_projection_(std::max<int64_t>(1, options.key_size),
                      options.score == AttentionScore::additive
                          ? checked_additive_size(options)
                          : std::max<int64_t>(1, options.query_size),
                      false),
      v_("v", {checked_additive_size(options)}) {
  if (options.query_size <= 0 || options.key_size <= 0) {
    throw ConfigError(fmt::format("attention: query size {} and key size {} must be positive",
                                  options.query_size, options.key_size));
  }
  if (options.score == AttentionScore::dot && options.query_size != options.key_size) {
    throw ConfigError(fmt::format(
        "attention score \"dot\" needs equal decoder and encoder widths, got {} and {}; use "
        "\"general\" or \"additive\"",
        options.query_size, options.key_size));
  }
  if (options.score == AttentionScore::additive && options.additive_size <= 0) {
    throw ConfigError(fmt::format("attention score \"additive\": additive size {} must be positive",
                                  options.additive_size));
  }
  key_projection_.parameters()[0]->name = options.score == AttentionScore::general ? "W_a" : "U";
}

std::vector<Parameter*> Attention::parameters() {
  switch (options_.score) {
    case AttentionScore::dot:
      return {};
    case AttentionScore::general:
      return key_projection_.parameters();
    case AttentionScore::additive:
      return {query_projection_.parameters()[0], key_projection_.parameters()[0], &v_};
  }
  return {};
}

void Attention::init(uint64_t seed, uint64_t tag) {
  query_projection_.init(seed, tag * 4 + 1);
  key_projection_.init(seed, tag * 4 + 2);
  init_uniform(v_, 1.0f / std::sqrt(static_cast<float>(v_.value.numel())),
               derive_key(seed, tag * 4 + 3));
}

void Attention::prepare_keys(const Tensor& keys, const Tensor& key_mask, AttentionKeys& prepared) {
  if (keys.rank() != 3 || keys.dim(2) != options_.key_size ||
      key_mask.dims() != std::vector<int64_t>{keys.dim(1), keys.dim(0)}) {
    throw Error(fmt::format(
        "Attention::prepare_keys: keys [{}] must be [S, B, {}] and key_mask [{}] must be [B, S]",
        fmt::join(keys.dims(), ", "), options_.key_size, fmt::join(key_mask.dims(), ", ")));
  }
  const int64_t length = keys.dim(0), batch = keys.dim(1), width = keys.dim(2);
  prepared.keys.reset({batch, length, width});
  primitives_.reorder(batch_major_view(length, batch, width, keys.data()), prepared.keys.memory());
  prepared.mask.reset({batch, 1, length});
  prepared.mask_bias.reset({batch, 1, length});
  for (int64_t b = 0; b < batch; ++b) {
    int64_t real = 0;
    for (int64_t s = 0; s < length; ++s) {
      const float m = key_mask[b * length + s];
      if (m != 0.0f && m != 1.0f) {
        throw InputError(fmt::format("attention key mask [{}, {}] = {}: must be 0 or 1", b, s, m));
      }
      real += m == 1.0f;
      prepared.mask[b * length + s] = m;
      prepared.mask_bias[b * length + s] =
          m == 1.0f ? 0.0f : -std::numeric_limits<float>::infinity();
    }
    if (real == 0) {
      throw InputError(fmt::format("attention key mask: sequence {} has no real key", b));
    }
  }
  if (options_.score == AttentionScore::dot) {
    prepared.projected = Tensor();
  } else {
    key_projection_.forward(prepared.keys, prepared.projected);
  }
  prepared.diff_keys.reset(prepared.keys.dims());
  prepared.diff_projected.reset(prepared.projected.dims());
}

void Attention::attend(const Tensor& queries, const AttentionKeys& keys, Tensor& context,
                       Tensor& weights, AttentionTape& tape) {
  const int64_t batch = keys.keys.dim(0), length = keys.keys.dim(1), width = keys.keys.dim(2);
  const int64_t hq = options_.query_size;
  if (queries.rank() != 3 || queries.dim(1) != batch || queries.dim(2) != hq) {
    throw Error(fmt::format("Attention::attend: queries [{}] must be [Tq, {}, {}]",
                            fmt::join(queries.dims(), ", "), batch, hq));
  }
  const int64_t steps = queries.dim(0);
  tape.queries = queries;
  scores_.reset({batch, steps, length});
  if (options_.score == AttentionScore::additive) {
    const int64_t a = options_.additive_size;
    query_projection_.forward(queries, tape.query_projection);
    tape.hidden.reset({steps, batch, length, a});
    for (int64_t t = 0; t < steps; ++t) {
      const float* wq_t = tape.query_projection.data() + t * batch * a;
      float* hidden_t = tape.hidden.data() + t * batch * length * a;
      const memory hidden_mem = view({batch, length, a}, {length * a, a, 1}, hidden_t);
      primitives_.binary(algorithm::binary_add, keys.projected.memory(),
                         view({batch, 1, a}, {a, a, 1}, wq_t), hidden_mem);
      primitives_.eltwise_forward(algorithm::eltwise_tanh_use_dst_for_bwd, hidden_mem, hidden_mem);
      primitives_.matmul(
          hidden_mem, view({1, a, 1}, {a, 1, 1}, v_.value.data()),
          view({batch, length, 1}, {steps * length, 1, 1}, scores_.data() + t * length));
    }
  } else {
    const Tensor& k = options_.score == AttentionScore::dot ? keys.keys : keys.projected;
    primitives_.matmul(batch_major_view(steps, batch, hq, queries.data()),
                       view({batch, hq, length}, {length * hq, 1, hq}, k.data()), scores_.memory());
  }
  primitives_.binary(algorithm::binary_add, scores_.memory(), keys.mask_bias.memory(),
                     scores_.memory());
  tape.weights.reset({batch, steps, length});
  primitives_.softmax_forward(scores_.memory(), tape.weights.memory(), 2);
  context.reset({steps, batch, width});
  primitives_.matmul(tape.weights.memory(), keys.keys.memory(),
                     batch_major_view(steps, batch, width, context.data()));
  weights.reset({steps, batch, length});
  primitives_.reorder(tape.weights.memory(),
                      batch_major_view(steps, batch, length, weights.data()));
}

void Attention::attend_backward(const AttentionTape& tape, AttentionKeys& keys,
                                const Tensor& diff_context, Tensor& diff_queries) {
  const int64_t batch = keys.keys.dim(0), length = keys.keys.dim(1), width = keys.keys.dim(2);
  const int64_t steps = tape.queries.dim(0), hq = options_.query_size;
  if (diff_context.dims() != std::vector<int64_t>{steps, batch, width}) {
    throw Error(fmt::format("Attention::attend_backward: diff_context [{}] must be [{}, {}, {}]",
                            fmt::join(diff_context.dims(), ", "), steps, batch, width));
  }
  const memory diff_context_bm = batch_major_view(steps, batch, width, diff_context.data());
  // d weights [B, Tq, S] = d context [B, Tq, Hk] x keys^T [B, Hk, S]
  diff_weights_.reset({batch, steps, length});
  primitives_.matmul(diff_context_bm,
                     view({batch, width, length}, {length * width, 1, width}, keys.keys.data()),
                     diff_weights_.memory());
  // d keys [B, S, Hk] += weights^T [B, S, Tq] x d context [B, Tq, Hk]
  primitives_.matmul(view({batch, length, steps}, {steps * length, 1, length}, tape.weights.data()),
                     diff_context_bm, keys.diff_keys.memory(), 1.0f, true);
  diff_scores_.reset({batch, steps, length});
  primitives_.softmax_backward(diff_weights_.memory(), tape.weights.memory(), diff_scores_.memory(),
                               2);
  diff_queries.reset({steps, batch, hq});
  if (options_.score == AttentionScore::additive) {
    const int64_t a = options_.additive_size;
    diff_query_projection_.reset({steps, batch, a});
    diff_hidden_.reset({batch, length, a});
    diff_pre_.reset({batch, length, a});
    diff_scores_step_.reset({batch, length, 1});
    Tensor ones({1, length, 1});
    std::fill(ones.values().begin(), ones.values().end(), 1.0f);
    for (int64_t t = 0; t < steps; ++t) {
      const float* hidden_t = tape.hidden.data() + t * batch * length * a;
      const memory hidden_mem = view({batch, length, a}, {length * a, a, 1}, hidden_t);
      primitives_.reorder(
          view({batch, length, 1}, {steps * length, 1, 1}, diff_scores_.data() + t * length),
          diff_scores_step_.memory());
      // d hidden [B, S, A] = d scores [B, S, 1] x v^T [1, 1, A]
      primitives_.matmul(diff_scores_step_.memory(), view({1, 1, a}, {a, a, 1}, v_.value.data()),
                         diff_hidden_.memory());
      primitives_.eltwise_backward(algorithm::eltwise_tanh_use_dst_for_bwd, diff_hidden_.memory(),
                                   hidden_mem, diff_pre_.memory());
      primitives_.reorder(diff_pre_.memory(), keys.diff_projected.memory(), true);
      // d query projection [B, A, 1] = d pre^T [B, A, S] x ones [1, S, 1], a matmul: oneDNN
      // 2.6's reduction primitive runs its reference kernel here (ref:any), most of the step
      primitives_.matmul(
          view({batch, a, length}, {length * a, 1, a}, diff_pre_.data()), ones.memory(),
          view({batch, a, 1}, {a, 1, 1}, diff_query_projection_.data() + t * batch * a));
      // d v [A, 1] += hidden^T [A, B*S] x d scores [B*S, 1]
      primitives_.matmul(view({a, batch * length}, {1, a}, hidden_t),
                         view({batch * length, 1}, {1, 1}, diff_scores_step_.data()),
                         view({a, 1}, {1, 1}, v_.grad.data()), 1.0f, true);
    }
    query_projection_.backward(tape.queries, diff_query_projection_, diff_queries);
    return;
  }
  Tensor& diff_k = options_.score == AttentionScore::dot ? keys.diff_keys : keys.diff_projected;
  const Tensor& k = options_.score == AttentionScore::dot ? keys.keys : keys.projected;
  // d queries [B, Tq, Hq] = d scores [B, Tq, S] x K [B, S, Hq]
  primitives_.matmul(diff_scores_.memory(), k.memory(),
                     batch_major_view(steps, batch, hq, diff_queries.data()));
  // d K [B, S, Hq] += d scores^T [B, S, Tq] x queries [B, Tq, Hq]
  primitives_.matmul(view({batch, length, steps}, {steps * length, 1, length}, diff_scores_.data()),
                     batch_major_view(steps, batch, hq, tape.queries.data()), diff_k.memory(), 1.0f,
                     true);
}

void Attention::keys_backward(AttentionKeys& keys, Tensor& diff_keys) {
  const int64_t batch = keys.keys.dim(0), length = keys.keys.dim(1), width = keys.keys.dim(2);
  if (options_.score != AttentionScore::dot) {
    Tensor through_projection;
    key_projection_.backward(keys.keys, keys.diff_projected, through_projection);
    primitives_.reorder(through_projection.memory(), keys.diff_keys.memory(), true);
  }
  diff_keys.reset({length, batch, width});
  primitives_.reorder(keys.diff_keys.memory(),
                      batch_major_view(length, batch, width, diff_keys.data()));
}

AttentionCombine::AttentionCombine(int64_t context_size, int64_t query_size, int64_t output_size)
    : context_size_(context_size),
      query_size_(query_size),
      linear_(context_size + query_size, output_size, false) {
  linear_.parameters()[0]->name = "W_c";
}

void AttentionCombine::forward(const Tensor& context, const Tensor& queries, Tensor& output,
                               AttentionCombineTape& tape) {
  concat_.forward({&context, &queries}, tape.joined);
  linear_.forward(tape.joined, tape.output);
  tanh_.forward(tape.output, tape.output);
  output = tape.output;
}

void AttentionCombine::backward(const AttentionCombineTape& tape, const Tensor& diff_output,
                                Tensor& diff_context, Tensor& diff_queries) {
  Tensor diff_pre, diff_joined;
  tanh_.backward(tape.output, diff_output, diff_pre);
  linear_.backward(tape.joined, diff_pre, diff_joined);
  concat_.backward(diff_joined, {context_size_, query_size_}, {&diff_context, &diff_queries});
}

}  // namespace cadenza
