#include "models/frame_embedding.hpp"

namespace cadenza {
namespace {

// The initialisation tag of the embedding, apart from the models' small part tags.
constexpr uint64_t kEmbeddingTag = 0xE3BE;

}  // namespace

FrameEmbedding::FrameEmbedding(int embedding_size, int pitches, Precision precision)
    : width_(embedding_size > 0 ? embedding_size : pitches) {
  if (embedding_size > 0) {
    linear_ = std::make_unique<Linear>(pitches, embedding_size, false, precision);
  }
}

std::vector<Parameter*> FrameEmbedding::parameters() {
  return linear_ ? linear_->parameters() : std::vector<Parameter*>{};
}

void FrameEmbedding::init(uint64_t seed) {
  if (linear_) linear_->init(seed, kEmbeddingTag);
}

const Tensor& FrameEmbedding::forward(const Tensor& frames, Tensor& embedded) {
  if (!linear_) return frames;
  linear_->forward(frames, embedded);
  return embedded;
}

void FrameEmbedding::backward(const Tensor& frames, const Tensor& diff_embedded) {
  if (linear_) linear_->backward_weights(frames, diff_embedded);
}

}  // namespace cadenza
