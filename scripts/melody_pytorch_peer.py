"""The PyTorch peer of experiments/melody_peer.json: Magenta's basic_rnn model (2 x 128 LSTM over
one-hot melody events, dropout 0.5 on each layer's output, a Linear to the 38 classes) trained the
way cadenza trains it, on the same token dataset (read with h5py):

- samples: windows of --window events every --window events of each training melody, plus one
  ending at the melody's end (a melody no longer than the window is one sample), as cadenza's
  `window` framing; each epoch in a new random order, batches of --batch;
- initialisation: PyTorch's defaults (uniform in +-1/sqrt(fan), as cadenza's), and the output
  bias set to the log of each event's frequency in the training split (cadenza's
  model.output_bias_init = "frequency" for a softmax, clamped to [1e-4, 1 - 1e-4]);
- loss: torch.nn.CrossEntropyLoss over events 2..T of each window, averaged over the scored
  events of the batch; clip_grad_norm_(5); Adam(1e-3);
- after every epoch the valid nll with the full-sequence protocol (each melody whole, events
  2..T predicted from the events before them, nats per event over the split); the test nll of
  the epoch with the best valid nll is reported.

It prints one JSON line: per-epoch training seconds (the training loop only, as cadenza's
epoch_s) and valid nll, the best epoch and its test nll. Run it with Debian's OpenBLAS (OpenMP
build), as docs/performance.md describes:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=1 \\
    /usr/bin/python3 scripts/melody_pytorch_peer.py datasets/cache/Nottingham_melody.h5 --threads 1
"""
import argparse
import copy
import json
import time

import h5py
import numpy as np
import torch


def read_split(data, split, classes):
    events = np.array(data[split]["events"], dtype=np.int64)
    offsets = np.array(data[split]["offsets"], dtype=np.int64)
    return [events[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def windows(melodies, window):
    samples = []
    for melody in melodies:
        length = len(melody)
        if length <= window:
            samples.append(melody)
            continue
        starts = list(range(0, length - window + 1, window))
        if starts[-1] + window < length:
            starts.append(length - window)
        samples.extend(melody[start:start + window] for start in starts)
    return samples


class MelodyLm(torch.nn.Module):
    def __init__(self, classes, hidden, layers, dropout):
        super().__init__()
        self.classes = classes
        self.lstm = torch.nn.LSTM(classes, hidden, num_layers=layers, dropout=dropout)
        self.dropout = torch.nn.Dropout(dropout)
        self.output = torch.nn.Linear(hidden, classes)

    def forward(self, events):  # events [T, B] class ids -> logits [T, B, classes]
        one_hot = torch.nn.functional.one_hot(events, self.classes).float()
        hidden, _ = self.lstm(one_hot)
        return self.output(self.dropout(hidden))


def split_nll(model, melodies):
    model.eval()
    total, scored = 0.0, 0
    loss = torch.nn.CrossEntropyLoss(reduction="sum")
    with torch.no_grad():
        for melody in melodies:
            if len(melody) < 2:
                continue
            events = torch.from_numpy(melody).unsqueeze(1)
            logits = model(events[:-1])
            total += loss(logits.reshape(-1, model.classes), events[1:].reshape(-1)).item()
            scored += len(melody) - 1
    return total / scored


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    with h5py.File(args.dataset, "r") as data:
        assert data.attrs["kind"] == "tokens", "a cadenza token dataset (cadenza data import --melody)"
        classes = int(data.attrs["num_pitches"]) + 2
        train, valid, test = (read_split(data, split, classes) for split in ("train", "valid", "test"))
    samples = windows(train, args.window)
    model = MelodyLm(classes, args.hidden, args.layers, args.dropout)
    frequency = np.bincount(np.concatenate(train), minlength=classes) / sum(len(m) for m in train)
    with torch.no_grad():
        model.output.bias.copy_(torch.from_numpy(np.log(np.clip(frequency, 1e-4, 1 - 1e-4))))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss(reduction="sum")
    epochs, best = [], None
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = rng.permutation(len(samples))
        start = time.perf_counter()
        for first in range(0, len(order), args.batch):
            batch = [samples[i] for i in order[first:first + args.batch]]
            steps = max(len(sample) for sample in batch)
            events = np.zeros((steps, len(batch)), dtype=np.int64)
            mask = np.zeros((steps, len(batch)), dtype=bool)
            for b, sample in enumerate(batch):
                events[:len(sample), b] = sample
                mask[:len(sample), b] = True
            events, mask = torch.from_numpy(events), torch.from_numpy(mask)
            targets_mask = mask[1:].reshape(-1)
            logits = model(events[:-1]).reshape(-1, classes)[targets_mask]
            targets = events[1:].reshape(-1)[targets_mask]
            loss = loss_fn(logits, targets) / targets.numel()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
        train_seconds = time.perf_counter() - start
        valid_nll = split_nll(model, valid)
        epochs.append({"epoch": epoch, "train_s": train_seconds, "valid_nll": valid_nll})
        if best is None or valid_nll < best[1]:
            best = (epoch, valid_nll, copy.deepcopy(model.state_dict()))
    model.load_state_dict(best[2])
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "epochs": epochs,
                      "best_epoch": best[0], "test_nll": split_nll(model, test)}))


if __name__ == "__main__":
    main()
