"""The PyTorch peer of `cadenza bench` on seq2seq configs, the generalisation of
bench_pytorch_lm.py to the encoder-decoder variants:

  cadenza bench --config experiments/bench_lm.json model.type=seq2seq data.framing=segments \
      data.context_frames=64 data.target_frames=64 \
      [model.attention=general|additive] [model.attention_style=luong|bahdanau]

The same model as framework/models/seq2seq.hpp: an LSTM encoder reads the context [Tc, B, 88];
its final (h, c) of each layer start the LSTM decoder (equal widths: no bridge); the decoder reads
the previous frames (teacher forcing). Attention over the encoder states (keys = values):
  general   score(h, s) = h . (W_a s)
  additive  score(h, s) = v . tanh(W h + U s), A = decoder width
  luong     the decoder states h_t attend, batched over t;
  bahdanau  at step t the previous top decoder state attends and the context joins the frame in
            the decoder's input (step-wise);
both styles feed tanh(W_c [c_t; h_t]) (no bias) to the output layer Linear(H, 88). Loss, clipping
and optimiser as bench_pytorch_lm.py: BCE-with-logits summed over keys and averaged over frames,
clip_grad_norm_(5), Adam(1e-3), f32, synthetic frames with keys on with probability 4/88.
Prints one JSON line with the median step time.

Run it with Debian's OpenBLAS (OpenMP build), as docs/performance.md describes:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=2 \
    /usr/bin/python3 scripts/bench_pytorch_seq2seq.py [--attention additive] [--style bahdanau]
"""
import argparse
import json
import statistics
import time

import torch

from pytorch_peer import Attention  # the attention scores, shared with the workload peer

KEYS = 88


class Seq2Seq(torch.nn.Module):
    def __init__(self, layers, hidden, attention, style):
        super().__init__()
        self.style = style if attention != "none" else "none"
        self.encoder = torch.nn.LSTM(KEYS, hidden, num_layers=layers)
        decoder_input = KEYS + hidden if self.style == "bahdanau" else KEYS
        self.decoder = torch.nn.LSTM(decoder_input, hidden, num_layers=layers)
        if self.style != "none":
            self.attention = Attention(attention, hidden, hidden)
            self.W_c = torch.nn.Linear(2 * hidden, hidden, bias=False)
        self.output = torch.nn.Linear(hidden, KEYS)

    # context [Tc, B, 88], inputs [Tt, B, 88] -> logits [Tt, B, 88]
    def forward(self, context, inputs):
        states, (h, c) = self.encoder(context)
        if self.style == "none":
            top, _ = self.decoder(inputs, (h, c))
            return self.output(top)
        keys = states.transpose(0, 1)
        projected = self.attention.project_keys(keys)
        if self.style == "luong":
            top, _ = self.decoder(inputs, (h, c))
            attended = self.attention(top.transpose(0, 1), keys, projected).transpose(0, 1)
        else:
            tops, contexts = [], []
            for t in range(inputs.shape[0]):
                attended_t = self.attention(h[-1].unsqueeze(1), keys, projected).squeeze(1)
                step, (h, c) = self.decoder(torch.cat([inputs[t], attended_t], 1).unsqueeze(0),
                                            (h, c))
                tops.append(step[0])
                contexts.append(attended_t)
            top, attended = torch.stack(tops), torch.stack(contexts)
        return self.output(torch.tanh(self.W_c(torch.cat([attended, top], 2))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--target", type=int, default=64)
    parser.add_argument("--attention", choices=["none", "dot", "general", "additive"],
                        default="none")
    parser.add_argument("--style", choices=["luong", "bahdanau"], default="luong")
    args = parser.parse_args()
    torch.manual_seed(1)
    model = Seq2Seq(args.layers, args.hidden, args.attention, args.style)
    parameters = list(model.parameters())
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="sum")
    frames = (torch.rand(args.context + args.target + 1, args.batch, KEYS) < 4.0 / KEYS).float()
    context = frames[:args.context]
    inputs = frames[args.context:args.context + args.target]
    targets = frames[args.context + 1:]
    scored = args.target * args.batch
    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(context, inputs), targets) / scored
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 5.0)
        optimizer.step()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(json.dumps({"frames_per_s": scored / median, "step_ms_median": 1e3 * median,
                      "attention": args.attention, "style": model.style,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
