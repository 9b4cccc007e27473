// Stacked LSTM on oneDNN's lstm_forward / lstm_backward primitives, unidirectional or
// bidirectional, with dropout on its input, between layers and on its output, plus a step-wise
// mode (one time step per call on the same weights) for decoders that feed attention back.
//
// Layout: sequences are time-major [T, B, C] (oneDNN's tnc). States are [L*D, B, H] in
// PyTorch's order (layer-major, then direction). Gate order i, f, g, o as in PyTorch.
//
// Parameters, per layer l (D = 2 when bidirectional, I_0 = input size, I_l = D*H above):
//   "layer{l}/W_ih" [D, 4H, I_l]  = PyTorch weight_ih_l{l} (and _reverse for d = 1)
//   "layer{l}/W_hh" [D, 4H, H]    = PyTorch weight_hh_l{l}
//   "layer{l}/b"    [D, 4H]       = PyTorch bias_ih_l{l} + bias_hh_l{l}
// backward() adds into the parameter gradients (see nn/parameter.hpp).
//
// oneDNN 2.6 traps 1 to 7 (docs/onednn.md) are handled in the code the three recurrent layers
// share (nn/recurrent.hpp): explicit zero src_iter and src_iter_c, one primitive per layer,
// weights reordered from ldgoi into the primitives' layouts, diff weights through a zeroed
// scratch, workspace and SRC/DST_LAYER on the tape. No per-sequence lengths (7): pad at the END
// of sequences and mask the loss.
#pragma once

#include <cstdint>

#include "core/tensor.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"
#include "nn/recurrent.hpp"

namespace cadenza {

using LstmOptions = RecurrentOptions;
// What one layer's forward keeps for its backward (h0, hT, c0, cT [D, B, H]), and the whole tape.
using LstmLayerTape = RecurrentLayerTape;
using LstmTape = RecurrentTape;

// The calls (forward, backward, step mode, PyTorch export and import) are Recurrent's, with the
// cell states c: x [T, B, I]; h0, c0 [L*D, B, H] or empty for zeros -> y [T, B, D*H]; hT, cT.
class Lstm : public Recurrent {
 public:
  explicit Lstm(const LstmOptions& options);

 private:
  void create(const Descs& descs, Primitives& p) const override;
  dnnl::rnn_primitive_desc_base create_inference(const Descs& descs) const override;
};

}  // namespace cadenza
