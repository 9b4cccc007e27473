#include "nn/parameter.hpp"

namespace cadenza {

std::vector<NamedParameter> with_prefix(std::string_view prefix,
                                        const std::vector<Parameter*>& parameters) {
  std::vector<NamedParameter> named;
  named.reserve(parameters.size());
  for (Parameter* p : parameters) {
    named.push_back({prefix.empty() ? p->name : std::string(prefix) + "/" + p->name, p});
  }
  return named;
}

void zero_grads(const std::vector<Parameter*>& parameters) {
  for (Parameter* p : parameters)
    p->grad.zero();
}

void init_uniform(Parameter& parameter, float bound, PhiloxKey key) {
  Tensor& v = parameter.value;
  uniform_fill(key, 0, v.data(), static_cast<uint64_t>(v.numel()));
  for (float& x : v.values())
    x = (2.0f * x - 1.0f) * bound;
}

}  // namespace cadenza
