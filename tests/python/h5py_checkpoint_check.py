"""Reads a cadenza checkpoint with h5py alone and checks the layout documented in
framework/train/checkpoint_format.hpp: every root attribute, /params, /optimizer and its slots,
the JSON attributes of /schedule, /early_stopping, /rng, /loader and /metrics, and the checksum
recomputed from the documented recipe.

Usage: h5py_checkpoint_check.py CHECKPOINT. Prints one JSON object (what was found) and exits 0,
or prints the problems and exits 1.
       h5py_checkpoint_check.py --drop KEY CHECKPOINT removes one entry (a dataset path or
"/object@attribute") and stores a new, valid checksum: a well-signed but incomplete file.
       h5py_checkpoint_check.py --as-version-1 CHECKPOINT rewrites the file as format version 1
wrote it (no /epoch_progress group), re-signed; --as-version-2 as version 2 wrote it (an LSTM
checkpoint's layout is the same; only the version differs), re-signed.
"""
import hashlib
import json
import struct
import sys

import h5py
import numpy as np

SLOTS = {"adam": {"exp_avg", "exp_avg_sq"}, "adamw": {"exp_avg", "exp_avg_sq"},
         "sgd": {"momentum_buffer"}, "rmsprop": {"square_avg"}}


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def entries_of(f):
    """Every dataset and attribute as (key, type tag, value bytes), per the documented recipe."""
    entries = []

    def add_attributes(obj, path):
        for name, value in obj.attrs.items():
            key = path + "@" + name
            if key == "/@checksum":
                continue
            if isinstance(value, (str, bytes)):
                entries.append((key, "str", text(value).encode("utf-8")))
            else:
                entries.append((key, "i64", np.array(value, dtype="<i8").tobytes()))

    add_attributes(f, "/")

    def visit(name, obj):
        path = "/" + name
        if isinstance(obj, h5py.Dataset):
            shape = "x".join(str(d) for d in obj.shape)
            tag = "f32" + (" " + shape if obj.shape else "")
            entries.append((path, tag, np.asarray(obj[()], dtype="<f4").tobytes()))
        add_attributes(obj, path)

    f.visititems(visit)
    return sorted(entries, key=lambda e: e[0].encode("utf-8"))


def checksum(entries):
    digest = hashlib.sha256()
    for key, tag, value in entries:
        digest.update(key.encode("utf-8") + b"\0" + tag.encode("ascii") + b"\0")
        digest.update(struct.pack("<Q", len(value)) + value)
    return digest.hexdigest()


def drop_and_resign(key, path):
    with h5py.File(path, "r+") as f:
        if "@" in key:
            owner, name = key.split("@", 1)
            del f[owner].attrs[name]
        else:
            del f[key]
        f.attrs["checksum"] = checksum(entries_of(f))
    return 0


def as_version_1(path):
    with h5py.File(path, "r+") as f:
        del f["epoch_progress"]
        f.attrs["format_version"] = np.int64(1)
        f.attrs["checksum"] = checksum(entries_of(f))
    return 0


def as_version_2(path):
    with h5py.File(path, "r+") as f:
        names = []
        f["params"].visit(names.append)
        assert not any(group in ("gru", "rnn") for name in names for group in name.split("/")), \
            "version 2 held LSTM parameters only"
        f.attrs["format_version"] = np.int64(2)
        f.attrs["checksum"] = checksum(entries_of(f))
    return 0


def main():
    if sys.argv[1] == "--drop":
        return drop_and_resign(sys.argv[2], sys.argv[3])
    if sys.argv[1] == "--as-version-1":
        return as_version_1(sys.argv[2])
    if sys.argv[1] == "--as-version-2":
        return as_version_2(sys.argv[2])
    problems = []
    found = {}
    with h5py.File(sys.argv[1], "r") as f:
        root = f.attrs
        for name in ["magic", "format_version", "config", "run_id", "step", "epoch", "created",
                     "checksum"]:
            if name not in root:
                problems.append(f"missing root attribute {name}")
        if problems:
            print("\n".join(problems))
            return 1
        if text(root["magic"]) != "CADENZA-CKPT":
            problems.append(f"magic is {root['magic']!r}")
        if int(root["format_version"]) != 3:
            problems.append(f"format_version is {root['format_version']}")
        found["config"] = json.loads(text(root["config"]))
        found["run_id"] = text(root["run_id"])
        found["step"] = int(root["step"])
        found["epoch"] = int(root["epoch"])
        found["created"] = text(root["created"])

        params = {}

        def add_param(name, obj):
            if isinstance(obj, h5py.Dataset):
                params[name] = list(obj.shape)

        f["params"].visititems(add_param)
        for name in params:
            if f["params"][name].dtype != np.float32:
                problems.append(f"/params/{name} is {f['params'][name].dtype}, not float32")
        found["params"] = params

        optimizer = f["optimizer"]
        name = text(optimizer.attrs["name"])
        found["optimizer"] = {"name": name, "step": int(optimizer.attrs["step"])}
        for param, shape in params.items():
            for slot in SLOTS.get(name, set()):
                path = f"{param}/{slot}"
                if path not in optimizer:
                    problems.append(f"missing /optimizer/{path}")
                elif list(optimizer[path].shape) != shape:
                    problems.append(f"/optimizer/{path} has shape {optimizer[path].shape}")

        for group, attribute in [("schedule", "state"), ("early_stopping", "state"),
                                 ("rng", "state"), ("loader", "position"),
                                 ("epoch_progress", "state")]:
            found[group] = json.loads(text(f[group].attrs[attribute]))
        found["metrics"] = [json.loads(line)
                            for line in text(f["metrics"].attrs["rows"]).splitlines() if line]

        computed = checksum(entries_of(f))
        if computed != text(root["checksum"]):
            problems.append(f"checksum: stored {text(root['checksum'])}, recomputed {computed}")
        found["checksum_verified"] = computed == text(root["checksum"])

    if problems:
        print("\n".join(problems))
        return 1
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
