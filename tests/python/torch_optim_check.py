"""torch.optim reference for tests/train/optimizer_test.cpp (PyTorch 1.13, float32).

Usage: torch_optim_check.py DIR. DIR/inputs.json lists the parameters (name, dims), the number of
steps and the optimiser cases; DIR/init_<k>.bin and DIR/grad_<step>_<k>.bin hold float32 initial
values and gradients. For each case the script applies clip_grad_norm_ (when clip > 0), sets the
step's learning rate and calls step(); it writes the final values to
DIR/out_<case>_<k>.bin, every optimiser state tensor to DIR/out_<case>_<k>_<slot>.bin, and the
pre-clip norms and the slot names found to DIR/outputs.json.
"""
import json
import os
import sys

import numpy as np
import torch


def read(path, dims):
    return np.fromfile(path, dtype=np.float32).reshape(dims)


def make_optimizer(case, params):
    name = case["name"]
    lr = case["lrs"][0]
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(case["beta1"], case["beta2"]),
                                eps=case["eps"], weight_decay=case["weight_decay"])
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(case["beta1"], case["beta2"]),
                                 eps=case["eps"], weight_decay=case["weight_decay"])
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=case["momentum"],
                               weight_decay=case["weight_decay"])
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=case["beta2"], eps=case["eps"],
                                   weight_decay=case["weight_decay"])
    raise ValueError(f"unknown optimiser {name}")


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "inputs.json")) as f:
        inputs = json.load(f)
    shapes = [p["dims"] for p in inputs["params"]]
    steps = inputs["steps"]
    init = [read(os.path.join(folder, f"init_{k}.bin"), d) for k, d in enumerate(shapes)]
    grads = [[read(os.path.join(folder, f"grad_{s}_{k}.bin"), d) for k, d in enumerate(shapes)]
             for s in range(steps)]
    outputs = {"cases": {}}
    for case in inputs["cases"]:
        params = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in init]
        optimizer = make_optimizer(case, params)
        norms = []
        for s in range(steps):
            for k, p in enumerate(params):
                p.grad = torch.from_numpy(grads[s][k].copy())
            if case["clip"] > 0:
                norms.append(float(torch.nn.utils.clip_grad_norm_(params, case["clip"])))
            for group in optimizer.param_groups:
                group["lr"] = case["lrs"][s]
            optimizer.step()
        slots = {}
        for k, p in enumerate(params):
            p.detach().numpy().astype(np.float32).tofile(
                os.path.join(folder, f"out_{case['id']}_{k}.bin"))
            for slot, value in optimizer.state[p].items():
                if torch.is_tensor(value) and value.shape == p.shape:
                    value.numpy().astype(np.float32).tofile(
                        os.path.join(folder, f"out_{case['id']}_{k}_{slot}.bin"))
                    slots.setdefault(k, []).append(slot)
        outputs["cases"][case["id"]] = {"norms": norms, "slots": slots}
    with open(os.path.join(folder, "outputs.json"), "w") as f:
        json.dump(outputs, f)


if __name__ == "__main__":
    main()
