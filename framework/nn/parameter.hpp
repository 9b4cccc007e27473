// Trainable parameters: f32 master values with a gradient buffer of the same shape and a name
// relative to the layer that owns them ("W_ih", "layer0/W_hh"). A model prefixes the names of
// its layers ("decoder/lstm/layer0/W_ih") so that checkpoints and optimizers see one namespace.
//
// Gradient convention: every backward() ADDS into Parameter::grad (layers may be applied many
// times per step, e.g. once per decoder step). The caller zeroes the gradients before each
// training step with zero_grads(); no layer ever zeroes them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace cadenza {

struct Parameter {
  Parameter(std::string parameter_name, std::vector<int64_t> dims)
      : name(std::move(parameter_name)), value(dims), grad(dims) {}

  std::string name;
  Tensor value;
  Tensor grad;
};

// A parameter under its full hierarchical name.
struct NamedParameter {
  std::string name;
  Parameter* parameter;
};

// Names every parameter "prefix/name" (or "name" when prefix is empty).
std::vector<NamedParameter> with_prefix(std::string_view prefix,
                                        const std::vector<Parameter*>& parameters);

void zero_grads(const std::vector<Parameter*>& parameters);

// Fills the value uniformly in [-bound, bound) from the counter-based RNG stream `key`.
void init_uniform(Parameter& parameter, float bound, PhiloxKey key);

}  // namespace cadenza
