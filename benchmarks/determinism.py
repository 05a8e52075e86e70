"""What bit-for-bit reproducible training costs: TensorFlow's deterministic ops on and off.

    python -m benchmarks.determinism [--repeats 3] [--model cnn] [--epochs 2] [--limit 20000]

Trains the same short run with each setting, each in a fresh process (TensorFlow cannot
switch determinism off once it is on), alternating the two so that a slow spell of the
machine hits both. Prints the median training seconds of each, their ratio, and whether
each setting gave the same weights every time.
"""

import argparse
import json
import statistics
import subprocess
import sys

CHILD = """
import hashlib, json, sys
import numpy as np
from digits.make.data import load_mnist
from digits.make.networks import NETWORKS, Recipe
from digits.make.training import train
args = json.loads(sys.argv[1])
recipe = Recipe(epochs=args["epochs"], batch_size=128, learning_rate=2e-3)
model, record = train(NETWORKS[args["model"]], load_mnist(), recipe, seed=0, limit=args["limit"],
                      validation_size=2000, verbose=0, deterministic=args["deterministic"])
weights = b"".join(np.asarray(w).tobytes() for w in model.get_weights())
print(json.dumps({"seconds": record["training_seconds"],
                  "weights": hashlib.sha256(weights).hexdigest()}))
"""


def run_child(code, settings):
    """Run `code` in a fresh Python with `settings` as JSON in argv[1]; its last line, parsed."""
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(settings)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_once(model, epochs, limit, deterministic):
    settings = {"model": model, "epochs": epochs, "limit": limit, "deterministic": deterministic}
    return run_child(CHILD, settings)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="cnn", choices=("mlp", "cnn"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=20000)
    args = parser.parse_args(argv)

    runs = {True: [], False: []}
    for _ in range(args.repeats):
        for deterministic in (True, False):
            runs[deterministic].append(run_once(args.model, args.epochs, args.limit, deterministic))

    print(
        f"{args.model}, {args.epochs} epochs on {args.limit - 2000} images, "
        f"{args.repeats} runs each (median training seconds)"
    )
    medians = {}
    for deterministic, label in (
        (True, "deterministic ops (the default)"),
        (False, "TensorFlow's usual ops"),
    ):
        seconds = [r["seconds"] for r in runs[deterministic]]
        medians[deterministic] = statistics.median(seconds)
        same = len({r["weights"] for r in runs[deterministic]}) == 1
        print(
            f"  {label:32s} {medians[deterministic]:6.1f} s   "
            f"runs {', '.join(f'{s:.1f}' for s in seconds)}   "
            f"same weights every run: {'yes' if same else 'NO'}"
        )
    print(f"  cost of determinism: x{medians[True] / medians[False]:.2f} the training time")
    return runs


if __name__ == "__main__":
    main()
