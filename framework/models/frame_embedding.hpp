// The optional input embedding of a model (model.embedding_size E): every frame [..., P] the
// recurrent layers read is first mapped to E values by a bias-free linear layer, "embedding/W"
// [E, P] (PyTorch's nn.Linear(P, E, bias=False)). On one-hot token frames this is an embedding
// lookup: the frame of event k reads column k of W, as nn.Embedding(P, E) row k. With E = 0 the
// frames go in as they are. A seq2seq model's encoder and decoder share the one embedding, as they
// read the same vocabulary.
#pragma once

#include <memory>
#include <vector>

#include "core/tensor.hpp"
#include "nn/linear.hpp"
#include "nn/parameter.hpp"
#include "nn/precision.hpp"

namespace cadenza {

class FrameEmbedding {
 public:
  // embedding_size 0: no embedding (width() = pitches).
  FrameEmbedding(int embedding_size, int pitches, Precision precision);

  // The width of what the recurrent layers read: E, or P without an embedding.
  int64_t width() const { return width_; }
  // "W" [E, P], or nothing without an embedding.
  std::vector<Parameter*> parameters();
  // PyTorch's nn.Linear default, from its own Philox key (no other part draws from it).
  void init(uint64_t seed);

  // frames [..., P] -> [..., width()]: `embedded`, or `frames` itself without an embedding.
  const Tensor& forward(const Tensor& frames, Tensor& embedded);
  // frames [..., P] (the forward input), diff_embedded [..., E]: dW += diff_embedded^T frames.
  // No gradient flows to the frames. Nothing to do without an embedding.
  void backward(const Tensor& frames, const Tensor& diff_embedded);

 private:
  int64_t width_;
  std::unique_ptr<Linear> linear_;
};

}  // namespace cadenza
