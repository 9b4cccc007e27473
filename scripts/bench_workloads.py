"""The workloads that set the time to an answer, cadenza against its PyTorch peer
(scripts/pytorch_peer.py), per epoch; run through scripts/bench_workloads.sh, whose header has
the usage.

For every workload and thread count, each round trains the experiment for --epochs epochs with
`cadenza train` (train.epochs and threads.compute overridden; loader inline) and then with the
peer, on the same resolved config and dataset. A round's ratio is the peer's mean training
seconds per epoch over cadenza's (cadenza's epoch_s, the peer's train_s: the training loop
only, without the valid pass); the table gives the median over rounds, both sides' median epoch
seconds, their peak RSS (each process's own ru_maxrss, the largest over rounds) and the train nll
of the last epoch (the same model and protocol should land near each other; seeds and
initialisations differ). Every measurement is also appended as a JSON line to --out.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEQ2SEQ = ["model.type=seq2seq", "data.framing=segments"]
# The quickstart's three variants (scripts/quickstart.sh), and the additive and Bahdanau variants
# of its encoder-decoder.
QUICKSTART = [
    ("quickstart lm", "experiments/quickstart.json", []),
    ("quickstart seq2seq", "experiments/quickstart.json", SEQ2SEQ),
    ("quickstart seq2seq + Luong general", "experiments/quickstart.json",
     SEQ2SEQ + ["model.attention=general"]),
    ("quickstart seq2seq + Luong additive", "experiments/quickstart.json",
     SEQ2SEQ + ["model.attention=additive"]),
    ("quickstart seq2seq + Bahdanau general", "experiments/quickstart.json",
     SEQ2SEQ + ["model.attention=general", "model.attention_style=bahdanau"]),
    ("melody basic_rnn", "experiments/melody_peer.json", []),
]


def workloads():
    """(name, experiment, overrides): the quickstart's, then every experiments/reproduce/ config
    (its base config: a sweep's or search's axes are not expanded)."""
    found = list(QUICKSTART)
    for path in sorted((ROOT / "experiments" / "reproduce").glob("*.json")):
        found.append((path.stem, str(path.relative_to(ROOT)), []))
    return found


def peak_rss_of(command, env=None):
    """Runs command as a child and reads its own ru_maxrss with wait4."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               cwd=ROOT)
    out = process.stdout.read().decode()
    err = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} exited with {process.returncode}: "
                           f"{err.strip()[-800:]}")
    return out, usage.ru_maxrss


def peer_dataset(cadenza, dataset, scratch):
    """The dataset as a cadenza .h5 the peer can read: located as cadenza does, a .mat imported."""
    located = subprocess.run([cadenza, "data", "locate", dataset], capture_output=True, text=True,
                             cwd=ROOT, check=True).stdout.strip().splitlines()[-1]
    path = Path(located) if Path(located).is_absolute() else ROOT / located
    if path.suffix == ".h5":
        return path
    imported = scratch / f"{path.stem}.h5"
    if not imported.exists():
        subprocess.run([cadenza, "data", "import", str(path), "--out", str(imported)], cwd=ROOT,
                       check=True, capture_output=True)
    return imported


def measure(cadenza, name, experiment, overrides, threads, epochs, rounds, scratch, out):
    settings = overrides + [f"train.epochs={epochs}", f"threads.compute={threads}",
                            "threads.loader=0", "train.early_stopping_patience=0"]
    dump = subprocess.run([cadenza, "config", "--dump", experiment] + settings, capture_output=True,
                          text=True, cwd=ROOT, check=True).stdout
    config_path = scratch / "config.json"
    config_path.write_text(dump)
    config = json.loads(dump)
    dataset = peer_dataset(cadenza, config["data"]["dataset"], scratch)
    peer_env = dict(os.environ, OMP_NUM_THREADS=str(threads),
                    LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-openmp")
    cadenza_env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    rows = []
    for round_index in range(1, rounds + 1):
        runs = scratch / f"runs-{round_index}"
        _, cadenza_rss = peak_rss_of([cadenza, "train", experiment, "--runs-dir", str(runs)] +
                                     settings, cadenza_env)
        metrics = next(runs.rglob("metrics.jsonl"))
        train_rows = [json.loads(line) for line in metrics.read_text().splitlines()]
        train_rows = [row for row in train_rows if row.get("split") == "train"]
        peer_out, peer_rss = peak_rss_of(
            ["/usr/bin/python3", str(ROOT / "scripts" / "pytorch_peer.py"), str(config_path),
             str(dataset), "--epochs", str(epochs), "--threads", str(threads)], peer_env)
        peer = json.loads(peer_out.strip().splitlines()[-1])
        row = {"workload": name, "threads": threads, "round": round_index,
               "cadenza_epoch_s": [r["epoch_s"] for r in train_rows],
               "peer_epoch_s": [e["train_s"] for e in peer["epochs"]],
               "cadenza_train_nll": train_rows[-1]["nll"],
               "peer_train_nll": peer["epochs"][-1]["train_nll"],
               "cadenza_peak_rss_mib": cadenza_rss / 1024, "peer_peak_rss_mib": peer_rss / 1024}
        row["ratio"] = statistics.mean(row["peer_epoch_s"]) / statistics.mean(row["cadenza_epoch_s"])
        rows.append(row)
        with open(out, "a") as file:
            file.write(json.dumps(row) + "\n")
        subprocess.run(["rm", "-rf", str(runs)], check=True)
    return rows


def summary_line(rows):
    """One Markdown row: the ratio of the first epoch (cadenza creates its oneDNN primitives for
    every new (T, B) shape there) and of the last (warm), medians over rounds."""
    first = rows[0]
    cadenza_last = statistics.median(r["cadenza_epoch_s"][-1] for r in rows)
    peer_last = statistics.median(r["peer_epoch_s"][-1] for r in rows)
    ratio_first = statistics.median(r["peer_epoch_s"][0] / r["cadenza_epoch_s"][0] for r in rows)
    last_ratios = [r["peer_epoch_s"][-1] / r["cadenza_epoch_s"][-1] for r in rows]
    rss_c = max(r["cadenza_peak_rss_mib"] for r in rows)
    rss_p = max(r["peer_peak_rss_mib"] for r in rows)
    return (f"| {first['workload']} | {first['threads']} | {cadenza_last:.3f} | {peer_last:.3f} | "
            f"{ratio_first:.2f}x | **{statistics.median(last_ratios):.2f}x** "
            f"({', '.join(f'{x:.2f}' for x in last_ratios)}) | {rss_c:.0f} | {rss_p:.0f} | "
            f"{first['cadenza_train_nll']:.3f} / {first['peer_train_nll']:.3f} |")


TABLE_HEAD = ("| workload | threads | cadenza s, last epoch | PyTorch s, last epoch | PyTorch / "
              "cadenza, epoch 1 | PyTorch / cadenza, last epoch (rounds) | cadenza peak RSS MiB | "
              "PyTorch peak RSS MiB | train nll, last epoch (cadenza / PyTorch) |\n"
              "|---|---|---|---|---|---|---|---|---|")


def table_of(rows):
    """The table of measurements (JSON lines of --out), one row per workload and thread count."""
    groups = {}
    for row in rows:
        groups.setdefault((row["threads"], row["workload"]), []).append(row)
    return "\n".join([TABLE_HEAD] + [summary_line(group) for group in groups.values()])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--only", default="", help="a regex: only the workloads it matches")
    parser.add_argument("--list", action="store_true", help="print the workloads and exit")
    parser.add_argument("--out", default="bench_workloads.jsonl")
    parser.add_argument("--cadenza", default=str(ROOT / "build" / "cadenza"))
    parser.add_argument("--table", metavar="JSONL",
                        help="print the table of earlier measurements (an --out file) and exit")
    args = parser.parse_args()
    if args.table:
        with open(args.table) as file:
            print(table_of([json.loads(line) for line in file if line.strip()]))
        return 0
    chosen = [w for w in workloads() if re.search(args.only, w[0])]
    if args.list or not chosen:
        for name, experiment, overrides in chosen or workloads():
            print(f"{name}: {experiment} {' '.join(overrides)}")
        return 0 if chosen else 2
    measured = []
    with tempfile.TemporaryDirectory(prefix="bench_workloads.") as folder:
        for threads in args.threads:
            for name, experiment, overrides in chosen:
                scratch = Path(folder) / re.sub(r"\W+", "_", name) / str(threads)
                scratch.mkdir(parents=True)
                try:
                    rows = measure(args.cadenza, name, experiment, overrides, threads, args.epochs,
                                   args.rounds, scratch, args.out)
                except (RuntimeError, subprocess.CalledProcessError) as error:
                    detail = getattr(error, "stderr", None) or str(error)
                    print(f"{name} ({threads} threads): skipped: {str(detail).strip()[-400:]}",
                          file=sys.stderr)
                    continue
                measured.extend(rows)
                print(summary_line(rows), flush=True)
    print("\n" + table_of(measured))
    return 0


if __name__ == "__main__":
    sys.exit(main())
