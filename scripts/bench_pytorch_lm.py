"""The PyTorch peer of `cadenza bench --config experiments/bench_lm.json`: the same lm (2-layer
LSTM, 88 -> 256, then Linear 256 -> 88), B = 32, T = 128, BCE-with-logits summed over keys and
averaged over frames, clip_grad_norm_(5), Adam(1e-3), f32, on the same kind of synthetic frames.
Prints one JSON line like cadenza bench does. --cell gru | rnn_tanh | rnn_relu swaps the LSTM for
torch.nn.GRU or torch.nn.RNN, the peer of `cadenza bench ... model.cell=<cell>`; the model FLOPs
count 2*G*H*(I+H) per frame and layer with G = 4 (LSTM), 3 (GRU), 1 (RNN), as cadenza does.

Run it with Debian's OpenBLAS (OpenMP build), as docs/performance.md describes for a fair comparison:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=2 \
    /usr/bin/python3 scripts/bench_pytorch_lm.py [--steps 20] [--warmup 3]
"""
import argparse
import json
import statistics
import time

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--frames", type=int, default=128)
    parser.add_argument("--cell", choices=["lstm", "gru", "rnn_tanh", "rnn_relu"], default="lstm")
    args = parser.parse_args()
    torch.manual_seed(1)
    keys = 88
    if args.cell == "lstm":
        recurrent, gates = torch.nn.LSTM(keys, args.hidden, num_layers=args.layers), 4
    elif args.cell == "gru":
        recurrent, gates = torch.nn.GRU(keys, args.hidden, num_layers=args.layers), 3
    else:
        recurrent, gates = torch.nn.RNN(keys, args.hidden, num_layers=args.layers,
                                        nonlinearity=args.cell[len("rnn_"):]), 1
    output = torch.nn.Linear(args.hidden, keys)
    parameters = list(recurrent.parameters()) + list(output.parameters())
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="sum")
    frames = (torch.rand(args.frames + 1, args.batch, keys) < 4.0 / keys).float()
    inputs, targets = frames[:-1], frames[1:]
    scored = args.frames * args.batch
    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        hidden, _ = recurrent(inputs)
        loss = loss_fn(output(hidden), targets) / scored
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 5.0)
        optimizer.step()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    flops = 0.0
    for layer in range(args.layers):
        width = keys if layer == 0 else args.hidden
        flops += 2 * gates * args.hidden * (width + args.hidden) * scored
    flops = 3 * (flops + 2 * args.hidden * keys * scored)
    print(json.dumps({"frames_per_s": scored / median, "step_ms_median": 1e3 * median,
                      "model_gflops_per_s": flops / median / 1e9,
                      "cell": args.cell, "threads": torch.get_num_threads(),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
