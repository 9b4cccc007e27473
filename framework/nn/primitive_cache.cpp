#include "nn/primitive_cache.hpp"

#include <unordered_map>
#include <utility>

#include "core/engine.hpp"

namespace cadenza {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

namespace {

dnnl::primitive_attr accumulate_attr(float scale, bool accumulate) {
  dnnl::primitive_attr attr = user_scratchpad_attr();
  if (scale != 1.0f) attr.set_output_scales(0, {scale});
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

}  // namespace

memory::desc plain_desc(const memory::dims& dims, memory::data_type type) {
  memory::dims strides(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;)
    strides[i - 1] = strides[i] * dims[i];
  return memory::desc(dims, type, strides);
}

template <class Make>
PrimitiveCache::Entry& PrimitiveCache::get(Op op, std::vector<memory::desc> descs,
                                           std::vector<float> params, Make&& make) {
  for (Entry& e : entries_) {
    if (e.op == op && e.descs == descs && e.params == params) return e;
  }
  dnnl::primitive primitive = make();
  memory scratchpad = scratchpad_arg(primitive);
  entries_.push_back(
      {op, std::move(descs), std::move(params), std::move(primitive), std::move(scratchpad)});
  return entries_.back();
}

void PrimitiveCache::run(Entry& entry, std::unordered_map<int, memory> args) {
  if (entry.scratchpad) args.insert({DNNL_ARG_SCRATCHPAD, entry.scratchpad});
  execute_and_wait(entry.primitive, args);
}

void PrimitiveCache::matmul(const memory& src, const memory& weights, const memory& dst,
                            float scale, bool accumulate, const memory* bias) {
  const memory::desc bias_md = bias ? bias->get_desc() : memory::desc();
  Entry& entry =
      get(Op::matmul, {src.get_desc(), weights.get_desc(), dst.get_desc(), bias_md},
          {scale, accumulate ? 1.0f : 0.0f}, [&] {
            dnnl::matmul::desc d(src.get_desc(), weights.get_desc(), bias_md, dst.get_desc());
            return dnnl::matmul(
                dnnl::matmul::primitive_desc(d, accumulate_attr(scale, accumulate), cpu_engine()));
          });
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (bias) args.insert({DNNL_ARG_BIAS, *bias});
  run(entry, std::move(args));
}

void PrimitiveCache::reorder(const memory& src, const memory& dst, bool accumulate) {
  Entry& entry =
      get(Op::reorder, {src.get_desc(), dst.get_desc()}, {accumulate ? 1.0f : 0.0f}, [&] {
        return dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), src.get_desc(),
                                                           cpu_engine(), dst.get_desc(),
                                                           accumulate_attr(1.0f, accumulate)));
      });
  run(entry, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
}

void PrimitiveCache::binary(algorithm op, const memory& a, const memory& b, const memory& dst) {
  Entry& entry =
      get(Op::binary, {a.get_desc(), b.get_desc(), dst.get_desc()}, {static_cast<float>(op)}, [&] {
        dnnl::binary::desc d(op, a.get_desc(), b.get_desc(), dst.get_desc());
        return dnnl::binary(dnnl::binary::primitive_desc(d, user_scratchpad_attr(), cpu_engine()));
      });
  run(entry, {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, dst}});
}

void PrimitiveCache::eltwise_forward(algorithm op, const memory& src, const memory& dst,
                                     float alpha) {
  Entry& entry =
      get(Op::eltwise_fwd, {src.get_desc(), dst.get_desc()}, {static_cast<float>(op), alpha}, [&] {
        dnnl::eltwise_forward::desc d(prop_kind::forward_training, op, src.get_desc(), alpha);
        return dnnl::eltwise_forward(
            dnnl::eltwise_forward::primitive_desc(d, user_scratchpad_attr(), cpu_engine()));
      });
  run(entry, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
}

void PrimitiveCache::eltwise_backward(algorithm op, const memory& diff_dst, const memory& data,
                                      const memory& diff_src, float alpha) {
  const bool uses_dst = op == algorithm::eltwise_tanh_use_dst_for_bwd ||
                        op == algorithm::eltwise_logistic_use_dst_for_bwd ||
                        op == algorithm::eltwise_relu_use_dst_for_bwd;
  Entry& entry =
      get(Op::eltwise_bwd, {diff_dst.get_desc(), data.get_desc(), diff_src.get_desc()},
          {static_cast<float>(op), alpha}, [&] {
            dnnl::eltwise_forward::desc fd(prop_kind::forward_training, op, data.get_desc(), alpha);
            dnnl::eltwise_forward::primitive_desc fpd(fd, cpu_engine());
            dnnl::eltwise_backward::desc bd(op, diff_dst.get_desc(), data.get_desc(), alpha);
            return dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(
                bd, user_scratchpad_attr(), cpu_engine(), fpd));
          });
  run(entry, {{DNNL_ARG_DIFF_DST, diff_dst},
              {uses_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, data},
              {DNNL_ARG_DIFF_SRC, diff_src}});
}

void PrimitiveCache::softmax_forward(const memory& src, const memory& dst, int axis, bool log) {
  Entry& entry =
      get(Op::softmax_fwd, {src.get_desc(), dst.get_desc()},
          {static_cast<float>(axis), log ? 1.0f : 0.0f}, [&]() -> dnnl::primitive {
            if (log) {
              dnnl::logsoftmax_forward::desc d(prop_kind::forward_training, src.get_desc(), axis);
              return dnnl::logsoftmax_forward(dnnl::logsoftmax_forward::primitive_desc(
                  d, user_scratchpad_attr(), cpu_engine()));
            }
            dnnl::softmax_forward::desc d(prop_kind::forward_training, src.get_desc(), axis);
            return dnnl::softmax_forward(
                dnnl::softmax_forward::primitive_desc(d, user_scratchpad_attr(), cpu_engine()));
          });
  run(entry, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
}

void PrimitiveCache::softmax_backward(const memory& diff_dst, const memory& dst,
                                      const memory& diff_src, int axis) {
  Entry& entry =
      get(Op::softmax_bwd, {diff_dst.get_desc(), dst.get_desc(), diff_src.get_desc()},
          {static_cast<float>(axis)}, [&] {
            dnnl::softmax_forward::desc fd(prop_kind::forward_training, dst.get_desc(), axis);
            dnnl::softmax_forward::primitive_desc fpd(fd, cpu_engine());
            dnnl::softmax_backward::desc bd(diff_dst.get_desc(), dst.get_desc(), axis);
            return dnnl::softmax_backward(dnnl::softmax_backward::primitive_desc(
                bd, user_scratchpad_attr(), cpu_engine(), fpd));
          });
  run(entry, {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DST, dst}, {DNNL_ARG_DIFF_SRC, diff_src}});
}

void PrimitiveCache::concat(const std::vector<memory>& sources, const memory& dst, int axis) {
  std::vector<memory::desc> descs;
  for (const memory& m : sources)
    descs.push_back(m.get_desc());
  std::vector<memory::desc> key = descs;
  key.push_back(dst.get_desc());
  Entry& entry = get(Op::concat, key, {static_cast<float>(axis)}, [&] {
    return dnnl::concat(dnnl::concat::primitive_desc(dst.get_desc(), axis, descs, cpu_engine(),
                                                     user_scratchpad_attr()));
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_DST, dst}};
  for (std::size_t i = 0; i < sources.size(); ++i) {
    args.insert({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), sources[i]});
  }
  run(entry, std::move(args));
}

}  // namespace cadenza
