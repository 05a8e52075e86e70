"""Train a network on MNIST and save it to models/.

    python train.py                    # the dense network (MLP): about 1 minute on a laptop CPU
    python train.py --model cnn        # the fast convolutional network: one pass, seconds
    python train.py --model accurate   # the most accurate one: about 15 minutes on 2 cores
    python train.py --model accurate-k3   # (and accurate-k7) its partners in the ensemble
    python train.py --model reader     # the line reader (digits.make.lines): about 30 minutes
    python train.py --model detector   # the not-a-digit detector: about 2 minutes

Trains on 55,000 of the 60,000 training images and watches the other 5,000 (a fixed,
seeded hold-out) to keep the weights of the best epoch. The test images are not used.
The recipe's own run (no option but --model) writes models/<name>.keras and, beside it,
models/<name>.json: the configuration,
seed, library versions, data checksum, per-epoch history and training time. The model
takes raw 28x28 images (0-255): keras.models.load_model(path).predict(images) is enough.
Any other run (--limit, --epochs, --seed, ...) is not the shipped model: it writes
runs/<name>-<what differs>.keras instead (runs/mlp-epochs1-limit2000.keras), unless
--output says where.

Each finished epoch is saved in models/.<name>.resume/ until the model is written, so
after Ctrl-C, SIGTERM or a crash the same command resumes from the last finished epoch.
A second run on the same output while one is running is refused.
"""

import os
import shutil
import signal
import sys

from digits import MODELS, RUNS
from digits.cli import ArgumentParser, positive_float, positive_int, run, seed
from digits.make.data import VALIDATION_SIZE
from digits.make.networks import NETWORKS, with_overrides
from digits.provenance import command_line


def recipe_defaults(key):
    """'mlp 10, cnn 3, ...': each model's default `key`, for the help text."""
    return ", ".join(f"{name} {getattr(network.recipe, key):g}" for name, network in NETWORKS.items())


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=NETWORKS, default="mlp", help="which network")
    parser.add_argument(
        "--epochs",
        type=positive_int,
        help="passes over the training images (default: the model's recipe, %s)"
        % recipe_defaults("epochs"),
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        help="images per step (default: the model's recipe, %s)" % recipe_defaults("batch_size"),
    )
    parser.add_argument(
        "--learning-rate",
        type=positive_float,
        help="peak Adam learning rate, then cosine decay to 0 (default: the model's recipe, "
        "%s)" % recipe_defaults("learning_rate"),
    )
    parser.add_argument(
        "--seed", type=seed, default=0, help="random seed for weights, shuffling and dropout"
    )
    parser.add_argument(
        "--validation-size",
        type=positive_int,
        help=f"training images held out to pick the best epoch (default: {VALIDATION_SIZE}, "
        f"or a tenth of --limit when that is fewer)",
    )
    parser.add_argument(
        "--limit",
        type=positive_int,
        help="train on only the first N training images (a quick smoke run)",
    )
    parser.add_argument("--data", default=None, help="MNIST .npz file (default: data/mnist.npz)")
    parser.add_argument(
        "--output", help="where to save the model, .keras or .h5 (default: models/<model>.keras)"
    )
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--resume",
        dest="start",
        action="store_const",
        const="resume",
        help="insist on resuming an interrupted run (the default resumes one if there is one)",
    )
    start.add_argument(
        "--fresh",
        dest="start",
        action="store_const",
        const="fresh",
        help="discard an interrupted run's progress and start over",
    )
    parser.add_argument(
        "--mixed-precision",
        action="store_true",
        help="compute in bfloat16 (weights kept in float32): about 1.7x faster on CPUs with "
        "bfloat16 units (avx512_bf16, amx_bf16) or a GPU, slower elsewhere; the model differs "
        "a little from the float32 one every CPU makes by default",
    )
    parser.add_argument(
        "--h5", action="store_true", help="also save a legacy .h5 copy beside the .keras file"
    )
    args = parser.parse_args(argv)
    if args.validation_size is None:
        args.validation_size = default_validation_size(args.limit)
    return args


def default_validation_size(limit):
    """VALIDATION_SIZE, or a tenth of --limit when that is fewer."""
    return min(VALIDATION_SIZE, max(1, (limit or VALIDATION_SIZE * 10) // 10))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    from digits.make.data import DEFAULT_PATH, load_mnist
    from digits.make.store import check_output_path
    from digits.make.progress import one_run_per_output

    output = args.output or default_output(args)
    check_output_path(output)
    arrays = load_mnist(args.data or DEFAULT_PATH)
    with one_run_per_output(output):
        return train_and_save(args, argv, arrays, output)


def default_output(args):
    """models/<name>.keras for the recipe's own run; runs/<name>-<what differs>.keras for
    any other, so that a smoke run or an experiment never replaces a shipped model."""
    recipe = NETWORKS[args.model].recipe
    changed = [
        f"{flag}{value:g}"
        for flag, value, default in (
            ("epochs", args.epochs, recipe.epochs),
            ("batch", args.batch_size, recipe.batch_size),
            ("lr", args.learning_rate, recipe.learning_rate),
            ("seed", args.seed, 0),
            ("limit", args.limit, None),
            ("val", args.validation_size, default_validation_size(args.limit)),
        )
        if value is not None and value != default
    ]
    changed += ["bf16"] * args.mixed_precision + ["data"] * (args.data is not None)
    if not changed:
        return MODELS / f"{args.model}.keras"
    return RUNS / f"{args.model}-{'-'.join(changed)}.keras"


def train_and_save(args, argv, arrays, output):
    from digits.make.store import save_model
    from digits.make.progress import lock_path, progress_folder
    from digits.make.training import TASKS, train

    network = NETWORKS[args.model]
    recipe = with_overrides(
        network.recipe,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        mixed_precision=args.mixed_precision or None,
    )
    progress = progress_folder(output)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        model, record = train(
            network,
            arrays,
            recipe,
            args.seed,
            validation_size=args.validation_size,
            limit=args.limit,
            # progress bars on a terminal, one line per epoch in a log
            verbose=1 if sys.stdout.isatty() else 2,
            state_dir=progress,
            resume={"resume": True, "fresh": False}.get(args.start),
        )
    except KeyboardInterrupt as stop:
        print(
            f"\ninterrupted; finished epochs are saved in {progress}/: "
            f"run the same command again to resume",
            file=sys.stderr,
        )
        return 143 if isinstance(stop, Terminated) else 130
    except OSError as err:  # Keras's backup of an epoch could not be written: a full disk
        shutil.rmtree(progress, ignore_errors=True)  # a half-written backup resumes nothing
        reason = str(err.strerror or err).splitlines()[0]
        print(
            f"error: cannot write the training progress in {progress}/ ({reason}); nothing "
            f"was saved: free some space, or give --output a folder on another disk",
            file=sys.stderr,
            flush=True,
        )
        # h5py's half-written backup file crashes the interpreter as it is torn down; its
        # folder is gone already, so leave without tearing down (and without the lock).
        sys.stdout.flush()
        lock_path(output).unlink(missing_ok=True)
        os._exit(2)
    record = {"command": command_line("train.py", argv), **record}
    written = save_model(model, record, output, h5_copy=args.h5)
    shutil.rmtree(progress, ignore_errors=True)
    resumed = (
        f" (resumed at epoch {record['resumed_at_epoch']})" if record["resumed_at_epoch"] else ""
    )
    print(
        f"best validation accuracy {100 * record['best_val_accuracy']:.2f}% at epoch "
        f"{record['best_epoch']}, {record['training_seconds']:.0f} s of training{resumed}; "
        f"saved {', '.join(map(str, written))}\n"
        + TASKS[network.task].try_it.format(path=output)
    )
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that it stops training as Ctrl-C does."""


def stop_on_sigterm(signum, frame):
    raise Terminated


def console():
    """The command line (python train.py, digits-train): main() with one-line errors."""
    run(main)


if __name__ == "__main__":
    console()
