"""Reads a cadenza dataset with h5py (an independent HDF5 reader) and prints what it finds as
JSON: root attributes, and per split the group attributes, offsets, names, the shape and dtype of
rolls, and the number of sounding cells in each sequence. Used by tests/data/test_dataset_h5py.cpp.

usage: h5py_read_dataset.py DATASET.h5 OUT.json
"""
import json
import sys

import h5py
import numpy as np


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def main(path, out_path):
    result = {"attributes": {}, "splits": {}}
    with h5py.File(path, "r") as f:
        for key, value in f.attrs.items():
            result["attributes"][key] = int(value) if np.issubdtype(
                np.asarray(value).dtype, np.integer) else text(value)
        for split in ("train", "valid", "test"):
            group = f[split]
            rolls = group["rolls"]
            offsets = group["offsets"][...]
            cells = rolls[...]
            result["splits"][split] = {
                "sequences": int(group.attrs["sequences"]),
                "frames": int(group.attrs["frames"]),
                "rolls_shape": list(rolls.shape),
                "rolls_dtype": str(rolls.dtype),
                "rolls_compression": rolls.compression,
                "offsets_dtype": str(offsets.dtype),
                "offsets": [int(x) for x in offsets],
                "names": [text(n) for n in group["names"][...]],
                "sounding_per_sequence": [
                    int(cells[offsets[i]:offsets[i + 1]].sum()) for i in range(len(offsets) - 1)
                ],
            }
    with open(out_path, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
