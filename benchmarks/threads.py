"""TensorFlow's thread pools: the sizes digits.backend sets against TensorFlow's own choice.

    python -m benchmarks.threads [--repeats 3] [--model cnn] [--epochs 4] [--limit 20000]

Trains the same short run with each setting, each in a fresh process (the pools are fixed
once TensorFlow starts), alternating the two so that a slow spell of the machine hits
both. Prints every epoch's seconds (the first, which also builds the graph, left out),
their median and their spread: the slowest epoch over the fastest.
"""

import argparse
import statistics

from benchmarks.determinism import run_child

CHILD = """
import json, sys
import tensorflow as tf
from digits.data import load_mnist
from digits.training import train
args = json.loads(sys.argv[1])
if not args["sized"]:  # undo digits.backend's sizes: 0 lets TensorFlow choose
    tf.config.threading.set_inter_op_parallelism_threads(0)
    tf.config.threading.set_intra_op_parallelism_threads(0)
model, record = train(args["model"], load_mnist(), epochs=args["epochs"], batch_size=256,
                      learning_rate=2e-3, seed=0, limit=args["limit"], validation_size=2000,
                      verbose=0)
print(json.dumps(record["history"]["epoch_seconds"][1:]))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="cnn", choices=("mlp", "cnn", "best"))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--limit", type=int, default=20000)
    args = parser.parse_args(argv)

    epochs = {True: [], False: []}
    for _ in range(args.repeats):
        for sized in (True, False):
            settings = {"model": args.model, "epochs": args.epochs, "limit": args.limit}
            epochs[sized] += run_child(CHILD, {**settings, "sized": sized})

    print(
        f"{args.model}, epochs 2-{args.epochs} of {args.repeats} runs on {args.limit - 2000} "
        f"images each (seconds per epoch)"
    )
    medians = {}
    for sized, label in ((True, "1 op at a time, 1 thread per core"), (False, "TensorFlow's own")):
        seconds = epochs[sized]
        medians[sized] = statistics.median(seconds)
        print(
            f"  {label:34s} median {medians[sized]:5.2f} s   slowest/fastest "
            f"x{max(seconds) / min(seconds):.2f}   epochs {', '.join(f'{s:.1f}' for s in seconds)}"
        )
    print(f"  sized pools take x{medians[True] / medians[False]:.2f} the time per epoch")


if __name__ == "__main__":
    main()
