// Checks shared by the GRU and plain-RNN tests. Both layers take x [T, B, I] and h0 [L*D, B, H]
// and return y [T, B, D*H] and hT [L*D, B, H] through the same forward, backward and step calls,
// so every check is written once for a layer, its tape and its options.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/tensor.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"
#include "nn_test_util.hpp"

namespace cadenza::testing {

struct RecurrentCase {
  int64_t steps, batch, input, hidden, layers;
  bool bidirectional;
};

template <class Options>
Options recurrent_options(const RecurrentCase& c) {
  Options o;
  o.input_size = c.input;
  o.hidden_size = c.hidden;
  o.layers = c.layers;
  o.bidirectional = c.bidirectional;
  return o;
}

// `fields(weights)` lists one layer's reference weights in the layer's parameter order.
template <class Layer, class Tape, class Options>
struct RecurrentChecks {
  // The parameters of `layer` as reference weights (same PyTorch layout).
  template <class Weights, class Fields>
  static std::vector<Weights> reference_weights(Layer& layer, Fields fields) {
    std::vector<Weights> layers;
    const auto params = layer.parameters();
    for (std::size_t i = 0; i < params.size();) {
      Weights w;
      for (std::vector<double>* field : fields(w))
        *field = to_double(params[i++]->value);
      layers.push_back(std::move(w));
    }
    return layers;
  }

  // x [T, B, I], h0 [L*D, B, H]; loss = <wy, y> + <wh, hT>. `reference_forward(x, h0, weights)`
  // gives the reference's y and hT; `reference_backward(x, h0, weights, wy, wh)` its dx, dh0 and
  // per-layer gradients.
  template <class Weights, class Fields, class Forward, class Backward>
  static void forward_and_every_gradient_match(const Options& o, const RecurrentCase& c,
                                               Fields fields, Forward reference_forward,
                                               Backward reference_backward) {
    Layer layer(o);
    layer.init(11);
    const int64_t rows = layer.state_rows();
    const Tensor x = random_tensor({c.steps, c.batch, c.input}, 1);
    const Tensor h0 = random_tensor({rows, c.batch, c.hidden}, 2, 0.5f);
    const Tensor wy = random_tensor({c.steps, c.batch, layer.output_size()}, 4);
    const Tensor wh = random_tensor({rows, c.batch, c.hidden}, 5);

    Tensor y, hT, dx, dh0;
    Tape tape;
    layer.forward(x, h0, y, hT, tape);
    zero_grads(layer.parameters());
    layer.backward(tape, wy, wh, dx, dh0);

    std::vector<double> xd = to_double(x), h0d = to_double(h0);
    auto weights = reference_weights<Weights>(layer, fields);
    auto loss = [&] {
      const auto r = reference_forward(xd, h0d, weights);
      return dot(r.y, to_double(wy)) + dot(r.hT, to_double(wh));
    };
    const auto ref = reference_forward(xd, h0d, weights);
    EXPECT_TRUE(all_close(y, ref.y, 1e-5, 1e-6));
    EXPECT_TRUE(all_close(hT, ref.hT, 1e-5, 1e-6));
    auto grads = reference_backward(xd, h0d, weights, to_double(wy), to_double(wh));

    // Ours against the reference's backward and against finite differences; the reference's
    // backward against finite differences, in double.
    const double rtol = 1e-4, atol = 1e-5;
    auto check = [&](const Tensor& ours, const std::vector<double>& analytic,
                     std::vector<double>& values, const std::string& what) {
      const auto numeric = finite_difference(loss, values);
      EXPECT_TRUE(all_close(ours, analytic, rtol, atol)) << what << " vs reference";
      EXPECT_TRUE(all_close(ours, numeric, rtol, atol)) << what << " vs finite differences";
      EXPECT_TRUE(all_close(analytic, numeric, 1e-6, 1e-8)) << what << " reference vs fd";
    };
    check(dx, grads.dx, xd, "d x");
    check(dh0, grads.dh0, h0d, "d h0");
    const auto params = layer.parameters();
    std::size_t p = 0;
    for (std::size_t l = 0; l < weights.size(); ++l) {
      const auto analytic = fields(grads.layers[l]);
      const auto values = fields(weights[l]);
      for (std::size_t f = 0; f < values.size(); ++f, ++p)
        check(params[p]->grad, *analytic[f], *values[f], params[p]->name);
    }
  }

  static void zero_initial_states_equal_empty_states() {
    Layer layer(recurrent_options<Options>({5, 2, 3, 4, 2, false}));
    layer.init(3);
    const Tensor x = random_tensor({5, 2, 3}, 9);
    Tensor y1, hT1, y2, hT2;
    Tape tape1, tape2;
    layer.forward(x, Tensor(), y1, hT1, tape1);
    layer.forward(x, Tensor({2, 2, 4}), y2, hT2, tape2);
    EXPECT_EQ(to_double(y1), to_double(y2));
    EXPECT_EQ(to_double(hT1), to_double(hT2));
  }

  // Outside training the layer runs oneDNN's forward_inference primitive (no workspace): the same
  // outputs bit for bit, stacked and bidirectional; its tape cannot be backpropagated.
  static void inference_forward_equals_training_forward() {
    Layer layer(recurrent_options<Options>({7, 3, 5, 4, 2, true}));
    layer.init(4);
    const Tensor x = random_tensor({7, 3, 5}, 8);
    const Tensor h0 = random_tensor({4, 3, 4}, 9);
    Tensor y_train, hT_train, y_eval, hT_eval, dx, dh0;
    Tape train_tape, eval_tape;
    layer.forward(x, h0, y_train, hT_train, train_tape);
    layer.set_training(false);
    layer.forward(x, h0, y_eval, hT_eval, eval_tape);
    EXPECT_TRUE(eval_tape.inference);
    EXPECT_EQ(to_double(y_eval), to_double(y_train));
    EXPECT_EQ(to_double(hT_eval), to_double(hT_train));
    EXPECT_THROW(layer.backward(eval_tape, y_eval, Tensor(), dx, dh0), Error);
    layer.set_training(true);
    layer.forward(x, h0, y_eval, hT_eval, eval_tape);
    EXPECT_NO_THROW(layer.backward(eval_tape, y_eval, Tensor(), dx, dh0));
  }

  static void gradients_accumulate_across_backward_calls() {
    Layer layer(recurrent_options<Options>({4, 2, 3, 4, 2, true}));
    layer.init(5);
    const Tensor x = random_tensor({4, 2, 3}, 1);
    const Tensor dy = random_tensor({4, 2, 8}, 2);
    Tensor y, hT, dx, dh0;
    Tape tape;
    layer.forward(x, Tensor(), y, hT, tape);
    zero_grads(layer.parameters());
    layer.backward(tape, dy, Tensor(), dx, dh0);
    std::vector<std::vector<double>> once;
    for (Parameter* p : layer.parameters())
      once.push_back(to_double(p->grad));
    layer.backward(tape, dy, Tensor(), dx, dh0);
    const auto params = layer.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::vector<double> twice = once[i];
      for (double& v : twice)
        v *= 2.0;
      EXPECT_TRUE(all_close(params[i]->grad, twice, 1e-6, 1e-7)) << params[i]->name;
    }
  }

  static void step_mode_equals_sequence_mode() {
    const int64_t T = 6, B = 3, I = 5, H = 4, L = 2;
    Layer layer(recurrent_options<Options>({T, B, I, H, L, false}));
    layer.init(21);
    const Tensor x = random_tensor({T, B, I}, 1);
    const Tensor h0 = random_tensor({L, B, H}, 2);
    const Tensor dy = random_tensor({T, B, H}, 4);
    Tensor y, hT, dx, dh0;
    Tape tape;
    layer.forward(x, h0, y, hT, tape);
    zero_grads(layer.parameters());
    layer.backward(tape, dy, Tensor(), dx, dh0);
    std::vector<std::vector<double>> sequence_grads;
    for (Parameter* p : layer.parameters())
      sequence_grads.push_back(to_double(p->grad));

    zero_grads(layer.parameters());
    layer.begin_steps();
    std::vector<Tape> tapes(T);
    std::vector<Tensor> h(T + 1);
    h[0] = h0;
    std::vector<double> y_steps;
    for (int64_t t = 0; t < T; ++t) {
      Tensor x_t({B, I}), y_t;
      std::copy_n(x.data() + t * B * I, B * I, x_t.data());
      layer.step_forward(x_t, h[t], y_t, h[t + 1], tapes[t]);
      y_steps.insert(y_steps.end(), y_t.values().begin(), y_t.values().end());
    }
    EXPECT_EQ(y_steps, to_double(y)) << "stepping must be bit-identical to the sequence call";
    EXPECT_EQ(to_double(h[T]), to_double(hT));

    Tensor dh = Tensor();
    std::vector<double> dx_steps(static_cast<std::size_t>(T * B * I));
    for (int64_t t = T - 1; t >= 0; --t) {
      Tensor dy_t({B, H}), dx_t, dh_in;
      std::copy_n(dy.data() + t * B * H, B * H, dy_t.data());
      layer.step_backward(tapes[t], dy_t, dh, dx_t, dh_in);
      std::copy_n(dx_t.data(), B * I, dx_steps.begin() + t * B * I);
      dh = dh_in;
    }
    layer.end_step_backward();
    EXPECT_TRUE(all_close(dx_steps, to_double(dx), 1e-5, 1e-6));
    EXPECT_TRUE(all_close(dh, to_double(dh0), 1e-5, 1e-6));
    const auto params = layer.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(all_close(params[i]->grad, sequence_grads[i], 1e-5, 1e-6)) << params[i]->name;
    }
  }

  // `reference_layer(x, weights, T, B, I, H)` is the reference's y [T, B, H] of one
  // unidirectional layer without initial state.
  template <class Weights, class Fields, class LayerForward>
  static void dropout_gradients_match_the_reference(Fields fields, LayerForward reference_layer) {
    const int64_t T = 4, B = 2, I = 3, H = 4, L = 2;
    Options o = recurrent_options<Options>({T, B, I, H, L, false});
    o.input_dropout = 0.3f;
    o.between_dropout = 0.4f;
    o.output_dropout = 0.25f;
    o.rng_tag = 7;
    Layer layer(o);
    layer.init(8);
    layer.set_dropout_step(1234, 17);
    const Tensor x = random_tensor({T, B, I}, 1);
    const Tensor wy = random_tensor({T, B, H}, 2);
    Tensor y, hT, dx, dh0;
    Tape tape;
    layer.forward(x, Tensor(), y, hT, tape);
    ASSERT_FALSE(tape.layers[0].input_mask.empty());
    ASSERT_FALSE(tape.layers[1].input_mask.empty());
    ASSERT_FALSE(tape.output_mask.empty());
    zero_grads(layer.parameters());
    layer.backward(tape, wy, Tensor(), dx, dh0);

    // The same network in double precision with the masks the forward drew.
    std::vector<double> xd = to_double(x);
    auto weights = reference_weights<Weights>(layer, fields);
    auto masked = [](std::vector<double> v, const Tensor& mask) {
      for (std::size_t i = 0; i < v.size(); ++i)
        v[i] *= mask[static_cast<int64_t>(i)];
      return v;
    };
    auto loss = [&] {
      auto in0 = masked(xd, tape.layers[0].input_mask);
      auto y0 = reference_layer(in0, weights[0], T, B, I, H);
      auto in1 = masked(y0, tape.layers[1].input_mask);
      auto y1 = reference_layer(in1, weights[1], T, B, H, H);
      return dot(masked(y1, tape.output_mask), to_double(wy));
    };
    EXPECT_TRUE(all_close(dx, finite_difference(loss, xd), 1e-4, 1e-5));
    const auto params = layer.parameters();
    const std::size_t per_layer = params.size() / L;
    for (std::size_t l = 0; l < 2; ++l) {
      EXPECT_TRUE(all_close(params[per_layer * l]->grad, finite_difference(loss, weights[l].w_ih),
                            1e-4, 1e-5));
      EXPECT_TRUE(all_close(params[per_layer * l + 1]->grad,
                            finite_difference(loss, weights[l].w_hh), 1e-4, 1e-5));
    }

    // A rerun of the same step draws the same masks bit for bit; evaluation switches dropout off.
    Tensor y_again;
    Tape tape_again;
    layer.set_dropout_step(1234, 17);
    layer.forward(x, Tensor(), y_again, hT, tape_again);
    EXPECT_EQ(to_double(y_again), to_double(y));
    layer.set_training(false);
    layer.forward(x, Tensor(), y_again, hT, tape_again);
    EXPECT_TRUE(tape_again.output_mask.empty());
  }

  // `gate_rows` = gates * H: the rows of weight_ih / weight_hh for hidden size 4.
  static void torch_state_round_trips_and_rejects_wrong_shapes(int64_t gate_rows) {
    Options o = recurrent_options<Options>({1, 1, 3, 4, 2, true});
    Layer a(o), b(o);
    a.init(1);
    const auto exported = a.export_torch();
    ASSERT_EQ(exported.size(), 16u);
    EXPECT_EQ(exported[0].first, "weight_ih_l0");
    EXPECT_EQ(exported[3].first, "bias_hh_l0");
    EXPECT_EQ(exported[4].first, "weight_ih_l0_reverse");
    EXPECT_EQ(exported[8].second.dims(), (std::vector<int64_t>{gate_rows, 8}));
    std::map<std::string, Tensor> state(exported.begin(), exported.end());
    b.import_torch(state);
    for (std::size_t i = 0; i < a.parameters().size(); ++i) {
      EXPECT_EQ(to_double(a.parameters()[i]->value), to_double(b.parameters()[i]->value));
    }
    state["weight_hh_l1"] = Tensor({gate_rows, 3});
    EXPECT_THROW(b.import_torch(state), InputError);
    state.erase("bias_hh_l0");
    EXPECT_THROW(b.import_torch(state), InputError);
  }

  static void rejects_bad_shapes_and_step_mode_when_bidirectional() {
    Layer layer(recurrent_options<Options>({1, 1, 3, 4, 1, true}));
    Tensor y, hT;
    Tape tape;
    EXPECT_THROW(layer.forward(Tensor({2, 2, 5}), Tensor(), y, hT, tape), Error);
    EXPECT_THROW(layer.forward(Tensor({2, 2, 3}), Tensor({1, 2, 4}), y, hT, tape), Error);
    EXPECT_THROW(layer.begin_steps(), UsageError);
    Options bad = recurrent_options<Options>({1, 1, 0, 4, 1, false});
    EXPECT_THROW(Layer{bad}, ConfigError);
  }

  static void bf16_agrees_with_f32_within_bf16_rounding() {
    if (!bf16_supported()) GTEST_FAIL() << "this CPU has no oneDNN bf16 support";
    const int64_t T = 8, B = 4, I = 16, H = 32, L = 2;
    Options o = recurrent_options<Options>({T, B, I, H, L, false});
    Layer f32(o);
    o.precision = Precision::bf16;
    Layer bf16(o);
    f32.init(2);
    bf16.init(2);
    const Tensor x = random_tensor({T, B, I}, 1);
    const Tensor dy = random_tensor({T, B, H}, 2);
    Tensor y32, y16, hT, dx32, dx16, dh;
    Tape t32, t16;
    f32.forward(x, Tensor(), y32, hT, t32);
    bf16.forward(x, Tensor(), y16, hT, t16);
    EXPECT_TRUE(all_close(y16, to_double(y32), 1e-2, 1e-2));
    EXPECT_NE(to_double(y16), to_double(y32)) << "the bf16 primitives must really compute in bf16";
    zero_grads(f32.parameters());
    zero_grads(bf16.parameters());
    f32.backward(t32, dy, Tensor(), dx32, dh);
    bf16.backward(t16, dy, Tensor(), dx16, dh);
    EXPECT_TRUE(all_close(dx16, to_double(dx32), 1e-2, 1e-2));
    for (std::size_t i = 0; i < f32.parameters().size(); ++i) {
      // Gradients sum T*B products: compare relative to the gradient's scale.
      const auto ref = to_double(f32.parameters()[i]->grad);
      double scale = 0.0;
      for (double v : ref)
        scale = std::max(scale, std::abs(v));
      EXPECT_TRUE(all_close(bf16.parameters()[i]->grad, ref, 1e-2, 1e-2 * scale))
          << f32.parameters()[i]->name;
    }
  }
};

}  // namespace cadenza::testing
