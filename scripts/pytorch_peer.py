"""The PyTorch peer of `cadenza train` for the timing workloads of scripts/bench_workloads.sh: it
trains the model an experiment describes, as cadenza trains it, for a few epochs, and prints how
long each epoch's training loop took.

It reads the experiment as cadenza resolved it (`cadenza config --dump EXPERIMENT > CONFIG.json`)
and the dataset as a cadenza .h5 (`cadenza data import X.mat --out X.h5` for a benchmark .mat;
token datasets as they are), with h5py. What it follows of the config:

- data: framing full / bucket / window / segments with window, stride, context_frames and
  target_frames as framework/data/loader.hpp cuts samples (a window or segment every `stride`
  frames, plus one ending at the sequence's end); batch_size; shuffle; max_transpose (each sample
  moved by a shift uniform in [-k, k]: piano-roll keys moved out of range are dropped, melody
  events get a shift that keeps every note in range);
- model: type lm or seq2seq; cell and encoder_cell (lstm, gru, rnn_tanh, rnn_relu: torch.nn.LSTM,
  GRU, RNN); layers; hidden_size, encoder_hidden_size, bidirectional_encoder and the bridge
  (tanh(W_h h), W_c c between two LSTMs) when the widths differ; embedding_size (a bias-free
  Linear shared by encoder and decoder); attention dot / general / additive in the luong style
  (after the decoder, batched over time) or the bahdanau style (step-wise, the previous top
  decoder state attends and the context joins the input); the combine layer tanh(W_c [c; h]);
  dropout on the recurrent inputs, between layers and on the last layer's outputs; forget_bias;
  the output bias at the training split's log-odds (piano rolls) or log frequencies (tokens);
- train: the optimiser (adam with L2 weight decay, adamw, rmsprop with alpha = beta2, sgd with
  momentum) and its lr, betas, eps; clip_norm; the loss as cadenza's, the Bernoulli nll summed
  over keys (or the cross-entropy of the event) averaged over the batch's scored frames.

After each epoch it scores the valid split under torch.no_grad(), untimed (cadenza's epoch_s
times the training loop only, and so does train_s here), so that the peak RSS counts an
evaluation as cadenza's does: an lm with the full-sequence protocol (data.eval_batch_size whole
sequences at a time, padded; frames 2..T of each, so its valid nll compares with cadenza's), a
seq2seq on the valid split's samples cut as in training (not cadenza's segment walk, so its
valid nll does not compare).

Not followed: the learning-rate schedule and early stopping (a timing run is a few epochs),
scheduled sampling, bf16 (the peer is PyTorch's f32), lookback inputs.

Prints one JSON line: per epoch the training seconds, the train nll (nats per scored frame, the
mean over the epoch, as cadenza's train row) and the valid nll, the parameter count, the peak
RSS in KiB.
Run it with Debian's OpenBLAS (OpenMP build), as docs/performance.md describes:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=1 \\
    /usr/bin/python3 scripts/pytorch_peer.py CONFIG.json DATASET.h5 --epochs 2 --threads 1
"""
import argparse
import json
import math
import resource
import time

import h5py
import numpy as np
import torch

FIXED_TOKEN_COLUMNS = 2  # NO_EVENT and NOTE_OFF, which transposition leaves in place


def read_split(data, split, tokens):
    """The split's sequences as float32 frames [T, P] (one-hot events for tokens)."""
    offsets = np.array(data[split]["offsets"], dtype=np.int64)
    if tokens:
        classes = int(data.attrs["num_pitches"]) + FIXED_TOKEN_COLUMNS
        rolls = np.eye(classes, dtype=np.float32)[np.array(data[split]["events"], dtype=np.int64)]
    else:
        rolls = np.array(data[split]["rolls"], dtype=np.float32)
    return [rolls[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def span_starts(length, span, stride):
    starts = list(range(0, length - span + 1, stride))
    if starts[-1] + span < length:
        starts.append(length - span)
    return starts


def frame_samples(sequences, data):
    """(sequence, start, frames) of every training sample, as frame_samples in loader.cpp."""
    samples = []
    for s, sequence in enumerate(sequences):
        length = len(sequence)
        if data["framing"] in ("full", "bucket"):
            samples.append((s, 0, length))
        elif data["framing"] == "window":
            if length <= data["window"]:
                samples.append((s, 0, length))
            else:
                samples.extend((s, start, data["window"])
                               for start in span_starts(length, data["window"], data["stride"]))
        else:
            span = data["context_frames"] + data["target_frames"]
            if length <= data["context_frames"]:
                continue
            if length <= span:
                samples.append((s, 0, length))
            else:
                samples.extend((s, start, span) for start in span_starts(length, span, data["stride"]))
    return samples


def plan_epoch(samples, data, rng):
    order = rng.permutation(len(samples)) if data["shuffle"] else np.arange(len(samples))
    size = data["batch_size"]
    if data["framing"] != "bucket":
        return [order[i:i + size] for i in range(0, len(order), size)]
    order = sorted(order, key=lambda i: samples[i][2])
    batches = [order[i:i + size] for i in range(0, len(order), size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def transposed(frames, max_transpose, tokens, rng):
    if max_transpose == 0:
        return frames
    if tokens:
        pitches = frames[:, FIXED_TOKEN_COLUMNS:]
        used = np.nonzero(pitches.any(axis=0))[0]
        low = -min(max_transpose, used[0]) if len(used) else -max_transpose
        high = min(max_transpose, pitches.shape[1] - 1 - used[-1]) if len(used) else max_transpose
        shift = int(rng.integers(low, high + 1))
        out = frames.copy()
        out[:, FIXED_TOKEN_COLUMNS:] = np.roll(pitches, shift, axis=1)
        return out
    shift = int(rng.integers(-max_transpose, max_transpose + 1))
    out = np.roll(frames, shift, axis=1)
    if shift > 0:
        out[:, :shift] = 0
    elif shift < 0:
        out[:, shift:] = 0
    return out


def recurrent(cell, input_size, hidden, layers, dropout, bidirectional=False):
    kind = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(cell)
    if kind is not None:
        return kind(input_size, hidden, num_layers=layers, dropout=dropout,
                    bidirectional=bidirectional)
    return torch.nn.RNN(input_size, hidden, num_layers=layers, dropout=dropout,
                        bidirectional=bidirectional, nonlinearity=cell.removeprefix("rnn_"))


def set_forget_bias(module, value):
    if not isinstance(module, torch.nn.LSTM) or value == 0.0:
        return
    hidden = module.hidden_size
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if name.startswith("bias_ih"):
                parameter[hidden:2 * hidden] = value
            elif name.startswith("bias_hh"):
                parameter[hidden:2 * hidden] = 0.0


class Attention(torch.nn.Module):
    """queries [B, Tq, H], keys [B, S, K] -> context [B, Tq, K]."""

    def __init__(self, score, hidden, key_size):
        super().__init__()
        self.score = score
        if score == "general":
            self.W_a = torch.nn.Linear(key_size, hidden, bias=False)
        elif score == "additive":
            self.W = torch.nn.Linear(hidden, hidden, bias=False)
            self.U = torch.nn.Linear(key_size, hidden, bias=False)
            self.v = torch.nn.Parameter(torch.empty(hidden).uniform_(-hidden**-0.5, hidden**-0.5))

    def project_keys(self, keys):
        if self.score == "general":
            return self.W_a(keys)
        if self.score == "additive":
            return self.U(keys)
        return keys

    def forward(self, queries, keys, projected):
        if self.score == "additive":
            scores = torch.tanh(self.W(queries).unsqueeze(2) + projected.unsqueeze(1)) @ self.v
        else:
            scores = queries @ projected.transpose(1, 2)
        return torch.softmax(scores, dim=2) @ keys


class Model(torch.nn.Module):
    def __init__(self, model, pitches):
        super().__init__()
        self.type = model["type"]
        hidden, layers, dropout = model["hidden_size"], model["layers"], model["dropout"]
        embedding = model["embedding_size"]
        self.embedding = torch.nn.Linear(pitches, embedding, bias=False) if embedding else None
        width = embedding or pitches
        self.input_dropout = torch.nn.Dropout(dropout["input"])
        self.output_dropout = torch.nn.Dropout(dropout["output"])
        self.style = "none"
        if self.type == "seq2seq":
            encoder_cell = model["cell"] if model["encoder_cell"] == "same" else model["encoder_cell"]
            encoder_hidden = model["encoder_hidden_size"] or hidden
            directions = 2 if model["bidirectional_encoder"] else 1
            self.encoder = recurrent(encoder_cell, width, encoder_hidden, layers, dropout["hidden"],
                                     model["bidirectional_encoder"])
            set_forget_bias(self.encoder, model["forget_bias"])
            self.directions, self.layers = directions, layers
            keys = directions * encoder_hidden
            self.bridge_h = torch.nn.Linear(keys, hidden) if keys != hidden else None
            self.carry_c = encoder_cell == "lstm" and model["cell"] == "lstm"
            self.bridge_c = torch.nn.Linear(keys, hidden) if keys != hidden and self.carry_c else None
            if model["attention"] != "none":
                self.style = model["attention_style"]
                self.attention = Attention(model["attention"], hidden, keys)
                self.W_c = torch.nn.Linear(keys + hidden, hidden, bias=False)
            width += keys if self.style == "bahdanau" else 0
        self.decoder = recurrent(model["cell"], width, hidden, layers, dropout["hidden"])
        set_forget_bias(self.decoder, model["forget_bias"])
        self.lstm_decoder = model["cell"] == "lstm"
        self.output = torch.nn.Linear(hidden, pitches)

    def embed(self, frames):
        return self.input_dropout(self.embedding(frames) if self.embedding is not None else frames)

    def bridge(self, state, linear, activation):
        # [L * D, B, E] -> [L, B, D * E] -> the decoder's [L, B, H]
        layers, batch = self.layers, state.shape[1]
        joined = state.view(layers, self.directions, batch, -1).transpose(1, 2).reshape(layers, batch, -1)
        return joined if linear is None else activation(linear(joined))

    def initial_state(self, final):
        h = final[0] if isinstance(final, tuple) else final
        h0 = self.bridge(h, self.bridge_h, torch.tanh)
        if not self.lstm_decoder:
            return h0
        c0 = self.bridge(final[1], self.bridge_c, lambda x: x) if self.carry_c else torch.zeros_like(h0)
        return (h0, c0)

    def forward(self, inputs, context=None):
        """inputs [T, B, P] (decoder inputs), context [Tc, B, P] -> logits [T, B, P]."""
        if self.type == "lm":
            top, _ = self.decoder(self.embed(inputs))
            return self.output(self.output_dropout(top))
        states, final = self.encoder(self.embed(context))
        state = self.initial_state(final)
        decoder_inputs = self.embed(inputs)
        if self.style == "none":
            top, _ = self.decoder(decoder_inputs, state)
            return self.output(self.output_dropout(top))
        keys = states.transpose(0, 1)
        projected = self.attention.project_keys(keys)
        if self.style == "luong":
            top, _ = self.decoder(decoder_inputs, state)
            top = self.output_dropout(top)
            attended = self.attention(top.transpose(0, 1), keys, projected).transpose(0, 1)
        else:
            tops, contexts = [], []
            for t in range(decoder_inputs.shape[0]):
                h = state[0] if isinstance(state, tuple) else state
                attended_t = self.attention(h[-1].unsqueeze(1), keys, projected).squeeze(1)
                step, state = self.decoder(
                    torch.cat([decoder_inputs[t], attended_t], 1).unsqueeze(0), state)
                tops.append(step[0])
                contexts.append(attended_t)
            top, attended = self.output_dropout(torch.stack(tops)), torch.stack(contexts)
        return self.output(torch.tanh(self.W_c(torch.cat([attended, top], 2))))


def optimizer_for(parameters, train):
    o = train["optimizer"]
    name, lr, decay = o["name"], o["lr"], o["weight_decay"]
    if name == "adam":
        return torch.optim.Adam(parameters, lr, (o["beta1"], o["beta2"]), o["eps"], decay)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr, (o["beta1"], o["beta2"]), o["eps"], decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr, alpha=o["beta2"], eps=o["eps"], weight_decay=decay)
    return torch.optim.SGD(parameters, lr, momentum=o["momentum"], weight_decay=decay)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config", help="the experiment as `cadenza config --dump` resolved it")
    parser.add_argument("dataset", help="the dataset as a cadenza .h5")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with open(args.config) as file:
        config = json.load(file)
    data_config, model_config, train_config = config["data"], config["model"], config["train"]
    torch.set_num_threads(args.threads)
    torch.manual_seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    with h5py.File(args.dataset, "r") as data:
        tokens = data.attrs.get("kind", "piano_roll") == "tokens"
        train = read_split(data, "train", tokens)
        valid = read_split(data, "valid", tokens)
    pitches = train[0].shape[1]
    model = Model(model_config, pitches)
    frequency = np.concatenate(train).mean(axis=0).clip(1e-4, 1 - 1e-4)
    with torch.no_grad():
        bias = np.log(frequency) if tokens else np.log(frequency / (1 - frequency))
        model.output.bias.copy_(torch.from_numpy(bias.astype(np.float32)))
    parameters = list(model.parameters())
    optimizer = optimizer_for(parameters, train_config)
    if tokens:
        cross_entropy = torch.nn.CrossEntropyLoss(reduction="sum")
        loss_fn = lambda logits, targets: cross_entropy(logits, targets.argmax(dim=1))
    else:
        loss_fn = torch.nn.BCEWithLogitsLoss(reduction="sum")
    samples = frame_samples(train, data_config)
    context = data_config["context_frames"] if model.type == "seq2seq" else 0

    def batch_loss(sequences, spans, augment):
        """The summed loss and scored frames of one batch of (sequence, start, frames) spans."""
        steps = max(span[2] for span in spans)
        frames = np.zeros((steps, len(spans), pitches), dtype=np.float32)
        mask = np.zeros((steps, len(spans)), dtype=bool)
        for b, (s, first, length) in enumerate(spans):
            piece = sequences[s][first:first + length]
            frames[:length, b] = (transposed(piece, data_config["max_transpose"], tokens, rng)
                                  if augment else piece)
            mask[:length, b] = True
        frames, mask = torch.from_numpy(frames), torch.from_numpy(mask)
        # lm: frames 1..T-1 predict 2..T; seq2seq: the context, then the target frames, each
        # predicted from the frame before it.
        first = max(context, 1)
        inputs, targets, target_mask = frames[first - 1:-1], frames[first:], mask[first:]
        logits = model(inputs, frames[:context] if context else None)
        picked = target_mask.reshape(-1)
        loss = loss_fn(logits.reshape(-1, pitches)[picked], targets.reshape(-1, pitches)[picked])
        return loss, int(picked.sum())

    if model.type == "lm":  # whole sequences, data.eval_batch_size at a time
        valid_spans = [(s, 0, len(sequence)) for s, sequence in enumerate(valid)]
    else:
        valid_spans = frame_samples(valid, data_config)
    eval_size = data_config["eval_batch_size"]
    epochs = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        total, scored = 0.0, 0
        start = time.perf_counter()
        for batch in plan_epoch(samples, data_config, rng):
            loss, frames_scored = batch_loss(train, [samples[i] for i in batch], True)
            optimizer.zero_grad()
            (loss / frames_scored).backward()
            if train_config["clip_norm"] > 0:
                torch.nn.utils.clip_grad_norm_(parameters, train_config["clip_norm"])
            optimizer.step()
            total += loss.item()
            scored += frames_scored
        train_seconds = time.perf_counter() - start
        model.eval()
        valid_total, valid_scored = 0.0, 0
        with torch.no_grad():
            for first in range(0, len(valid_spans), eval_size):
                loss, frames_scored = batch_loss(valid, valid_spans[first:first + eval_size], False)
                valid_total += loss.item()
                valid_scored += frames_scored
        epochs.append({"epoch": epoch, "train_s": train_seconds,
                       "train_nll": total / scored if scored else math.nan,
                       "valid_nll": valid_total / valid_scored if valid_scored else math.nan})
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "epochs": epochs,
                      "parameters": sum(p.numel() for p in parameters),
                      "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
