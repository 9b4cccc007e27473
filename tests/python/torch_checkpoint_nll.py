"""Loads a cadenza lm checkpoint with h5py into torch.nn.LSTM, torch.nn.GRU or torch.nn.RNN (by its
model.cell) + torch.nn.Linear, behind a torch.nn.Embedding of the events (or, for piano rolls, a
bias-free torch.nn.Linear) when the checkpoint has model.embedding_size's "embedding/W", and
computes the
test nll of a cadenza dataset with the full-sequence protocol: for each sequence, frames 1..T-1
predict frames 2..T; Bernoulli nll summed over keys, total over the split / scored frames. For a
token dataset (kind "tokens": melody events) the inputs are the events one-hot and the loss is
torch.nn.CrossEntropyLoss over the vocabulary: nats per event.

usage: torch_checkpoint_nll.py CHECKPOINT.h5 DATASET.h5 SPLIT  -> prints {"nll": ..., "frames": ...}
"""
import json
import sys

import h5py
import numpy as np
import torch


def main():
    checkpoint_path, dataset_path, split = sys.argv[1:4]
    with h5py.File(checkpoint_path, "r") as ckpt:
        assert ckpt.attrs["magic"] == "CADENZA-CKPT", ckpt.attrs["magic"]
        config = json.loads(ckpt.attrs["config"])
        params = {}
        ckpt["params"].visititems(
            lambda name, obj: params.__setitem__(name, np.array(obj)) if isinstance(obj, h5py.Dataset) else None)
    with h5py.File(dataset_path, "r") as data:
        tokens = data.attrs.get("kind", "piano_roll") == "tokens"
        if tokens:
            classes = int(data.attrs["num_pitches"]) + 2
            events = np.array(data[split]["events"], dtype=np.int64)
            rolls = np.eye(classes)[events]
        else:
            rolls = np.array(data[split]["rolls"], dtype=np.float64)
        offsets = np.array(data[split]["offsets"])
    width = rolls.shape[1]
    model_config = config["model"]
    embedding_size = model_config.get("embedding_size", 0)
    input_size = embedding_size if embedding_size > 0 else width
    assert model_config["type"] == "lm", model_config
    layers, hidden = model_config["layers"], model_config["hidden_size"]
    cell = model_config.get("cell", "lstm")
    if cell == "lstm":
        group, gates, recurrent = "lstm", 4, torch.nn.LSTM(input_size=input_size, hidden_size=hidden, num_layers=layers)
    elif cell == "gru":
        group, gates, recurrent = "gru", 3, torch.nn.GRU(input_size=input_size, hidden_size=hidden, num_layers=layers)
    else:
        nonlinearity = {"rnn_tanh": "tanh", "rnn_relu": "relu"}[cell]
        group, gates, recurrent = "rnn", 1, torch.nn.RNN(input_size=input_size, hidden_size=hidden, num_layers=layers,
                                                         nonlinearity=nonlinearity)
    recurrent = recurrent.double()
    output = torch.nn.Linear(hidden, width).double()
    embed = None
    if embedding_size > 0:
        # cadenza's W [E, P] maps a frame x to W x: for a one-hot event k that is column k, which
        # nn.Embedding keeps as row k of its [P, E] weight.
        embedding_weight = torch.from_numpy(params["embedding/W"])
        if tokens:
            embedding = torch.nn.Embedding(width, embedding_size).double()
            with torch.no_grad():
                embedding.weight.copy_(embedding_weight.t())
            embed = lambda start, end: embedding(torch.from_numpy(events[start:end]))
        else:
            projection = torch.nn.Linear(width, embedding_size, bias=False).double()
            with torch.no_grad():
                projection.weight.copy_(embedding_weight)
            embed = lambda start, end: projection(torch.from_numpy(rolls[start:end]))
    with torch.no_grad():
        for layer in range(layers):
            prefix = f"decoder/{group}/layer{layer}/"
            weight = lambda name, cols: torch.from_numpy(params[prefix + name].reshape(gates * hidden, cols))
            getattr(recurrent, f"weight_ih_l{layer}").copy_(weight("W_ih", -1))
            getattr(recurrent, f"weight_hh_l{layer}").copy_(weight("W_hh", hidden))
            if group == "gru":  # b_ih and b_hh kept apart, as the linear-before-reset GRU needs
                getattr(recurrent, f"bias_ih_l{layer}").copy_(torch.from_numpy(params[prefix + "b_ih"].reshape(-1)))
                getattr(recurrent, f"bias_hh_l{layer}").copy_(torch.from_numpy(params[prefix + "b_hh"].reshape(-1)))
            else:  # one summed bias
                getattr(recurrent, f"bias_ih_l{layer}").copy_(torch.from_numpy(params[prefix + "b"].reshape(-1)))
                getattr(recurrent, f"bias_hh_l{layer}").zero_()
        output.weight.copy_(torch.from_numpy(params["decoder/output/W"]))
        output.bias.copy_(torch.from_numpy(params["decoder/output/b"]))
    total, frames = 0.0, 0
    loss = torch.nn.BCEWithLogitsLoss(reduction="sum")
    cross_entropy = torch.nn.CrossEntropyLoss(reduction="sum")
    with torch.no_grad():
        for i in range(len(offsets) - 1):
            sequence = torch.from_numpy(rolls[offsets[i]:offsets[i + 1]])
            if sequence.shape[0] < 2:
                continue
            inputs = sequence[:-1] if embed is None else embed(offsets[i], offsets[i + 1] - 1)
            hidden_states, _ = recurrent(inputs.unsqueeze(1))
            logits = output(hidden_states.squeeze(1))
            if tokens:
                targets = torch.from_numpy(events[offsets[i] + 1:offsets[i + 1]])
                total += cross_entropy(logits, targets).item()
            else:
                total += loss(logits, sequence[1:]).item()
            frames += sequence.shape[0] - 1
    print(json.dumps({"nll": total / frames, "frames": frames}))


if __name__ == "__main__":
    main()
