#!/usr/bin/python3
"""PyTorch 1.13 cross-check of cadenza's nn layers (run by tests/nn/torch_crosscheck_test.cpp).

Usage: torch_nn_check.py DIR
Reads DIR/inputs.json (tensor name -> shape, raw little-endian float32 in DIR/<name>.bin, plus
"config"), computes every case's forward values and gradients with torch autograd in float64,
and writes them the same way to DIR/outputs.json and DIR/out_<name>.bin.
"""
import json
import os
import sys

import numpy as np
import torch


def main(directory):
    with open(os.path.join(directory, "inputs.json")) as f:
        manifest = json.load(f)
    cfg = manifest["config"]

    def load(name, grad=False):
        shape = manifest["tensors"][name]
        data = np.fromfile(os.path.join(directory, name + ".bin"), dtype="<f4").reshape(shape)
        return torch.tensor(data, dtype=torch.float64, requires_grad=grad)

    outputs = {}

    def emit(name, tensor):
        outputs[name] = tensor.detach().to(torch.float64).numpy()

    # --- LSTMs: a stacked one (input width != hidden) and a bidirectional stacked one ---------
    for case in ("lstm_stacked", "lstm_bi"):
        c = cfg[case]
        lstm = torch.nn.LSTM(c["input"], c["hidden"], num_layers=c["layers"],
                             bidirectional=c["bidirectional"]).double()
        state = {}
        for key in lstm.state_dict():
            state[key] = load(case + "." + key).detach()
        lstm.load_state_dict(state)
        x = load(case + ".x", True)
        h0 = load(case + ".h0", True)
        c0 = load(case + ".c0", True)
        y, (hT, cT) = lstm(x, (h0, c0))
        loss = ((y * load(case + ".wy")).sum() + (hT * load(case + ".wh")).sum() +
                (cT * load(case + ".wc")).sum())
        loss.backward()
        emit(case + ".y", y)
        emit(case + ".hT", hT)
        emit(case + ".cT", cT)
        emit(case + ".dx", x.grad)
        emit(case + ".dh0", h0.grad)
        emit(case + ".dc0", c0.grad)
        for key, p in lstm.named_parameters():
            if not key.startswith("bias_hh"):  # d b = d bias_ih = d bias_hh
                emit(case + ".grad." + key, p.grad)

    # --- GRUs and plain RNNs (tanh, relu), each stacked and bidirectional stacked. cadenza's RNN
    # keeps one bias, exported as bias_ih with bias_hh zero. ---------------------------------
    cells = ("gru_stacked", "gru_bi", "rnn_tanh_stacked", "rnn_tanh_bi", "rnn_relu_stacked",
             "rnn_relu_bi")
    for case in cells:
        c = cfg[case]
        if c["cell"] == "gru":
            net = torch.nn.GRU(c["input"], c["hidden"], num_layers=c["layers"],
                               bidirectional=c["bidirectional"])
        else:
            net = torch.nn.RNN(c["input"], c["hidden"], num_layers=c["layers"],
                               nonlinearity=c["cell"][len("rnn_"):],
                               bidirectional=c["bidirectional"])
        net = net.double()
        net.load_state_dict({key: load(case + "." + key).detach() for key in net.state_dict()})
        x = load(case + ".x", True)
        h0 = load(case + ".h0", True)
        y, hT = net(x, h0)
        loss = (y * load(case + ".wy")).sum() + (hT * load(case + ".wh")).sum()
        loss.backward()
        emit(case + ".y", y)
        emit(case + ".hT", hT)
        emit(case + ".dx", x.grad)
        emit(case + ".dh0", h0.grad)
        for key, p in net.named_parameters():
            if c["cell"] == "gru" or not key.startswith("bias_hh"):  # RNN: d b = d bias_ih
                emit(case + ".grad." + key, p.grad)

    # --- attention, each score, followed by the combine layer tanh(W_c [c; h]) -------------
    for score in ("dot", "general", "additive"):
        case = "attention_" + score
        q = load(case + ".queries", True)   # [T, B, Hq]
        k = load(case + ".keys", True)      # [S, B, Hk]
        mask = load(case + ".mask")         # [B, S]
        w_c = load(case + ".W_c", True)     # [out, Hk + Hq]
        qb = q.transpose(0, 1)              # [B, T, Hq]
        kb = k.transpose(0, 1)              # [B, S, Hk]
        params = {}
        if score == "dot":
            scores = qb @ kb.transpose(1, 2)
        elif score == "general":
            params["W_a"] = load(case + ".W_a", True)
            scores = qb @ (kb @ params["W_a"].T).transpose(1, 2)
        else:
            params["W"] = load(case + ".W", True)
            params["U"] = load(case + ".U", True)
            params["v"] = load(case + ".v", True)
            hidden = torch.tanh((qb @ params["W"].T).unsqueeze(2) +
                                (kb @ params["U"].T).unsqueeze(1))  # [B, T, S, A]
            scores = hidden @ params["v"]
        scores = scores.masked_fill(mask.unsqueeze(1) == 0, float("-inf"))
        weights = torch.softmax(scores, dim=2)                    # [B, T, S]
        context = (weights @ kb).transpose(0, 1)                  # [T, B, Hk]
        out = torch.tanh(torch.cat([context, q], dim=2) @ w_c.T)  # [T, B, out]
        (out * load(case + ".wy")).sum().backward()
        emit(case + ".out", out)
        emit(case + ".weights", weights.transpose(0, 1))
        emit(case + ".dqueries", q.grad)
        emit(case + ".dkeys", k.grad)
        emit(case + ".grad.W_c", w_c.grad)
        for name, p in params.items():
            emit(case + ".grad." + name, p.grad)

    # --- losses with a frame mask -----------------------------------------------------------
    logits = load("bce.logits", True)
    mask = load("bce.mask")
    per_key = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, load("bce.targets"), reduction="none")
    loss = (per_key.sum(dim=2) * mask).sum()
    loss.backward()
    emit("bce.loss", loss.reshape(1))
    emit("bce.grad", logits.grad)

    logits = load("ce.logits", True)
    mask = load("ce.mask")
    targets = load("ce.targets").long()
    T, B, V = logits.shape
    per_frame = torch.nn.functional.cross_entropy(logits.reshape(T * B, V), targets.reshape(-1),
                                                  reduction="none")
    loss = (per_frame * mask.reshape(-1)).sum()
    loss.backward()
    emit("ce.loss", loss.reshape(1))
    emit("ce.grad", logits.grad)

    shapes = {}
    for name, array in outputs.items():
        array.astype("<f4").tofile(os.path.join(directory, "out_" + name + ".bin"))
        shapes[name] = list(array.shape)
    with open(os.path.join(directory, "outputs.json"), "w") as f:
        json.dump({"tensors": shapes, "torch": torch.__version__}, f)


if __name__ == "__main__":
    main(sys.argv[1])
