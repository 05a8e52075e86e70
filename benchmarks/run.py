"""This project's models against the well-known Keras recipes, side by side, same machine.

    python -m benchmarks.run            # the full run: every model, 3 seeds; writes RESULTS.md
    python -m benchmarks.run --quick    # the same code path on a sliver of the data, ~1 minute
    python -m benchmarks.run --models cnn keras-io-convnet --seeds 5 --output /tmp/r.md
    python -m benchmarks.run --save models   # also keep the trained models (see --save)
    KERAS_BACKEND=jax python -m benchmarks.run --mixed-precision mixed_bfloat16   # on a GPU

The references, written from their published descriptions:
  keras-io-convnet  keras-io examples/vision/mnist_convnet: Conv 32 -> pool -> Conv 64 ->
                    pool -> Flatten -> Dropout 0.5 -> Dense 10; Adam, batch 128, 15 epochs,
                    10% of the training images held out for validation
  keras-mnist-mlp   Keras examples mnist_mlp: Dense 512 -> Dropout 0.2 -> Dense 512 ->
                    Dropout 0.2 -> Dense 10; RMSprop, batch 128, 20 epochs, all 60,000
                    training images (the original watched the test set; we do not)
and this project's mlp, cnn, accurate, accurate-k3 and accurate-k7, trained by
digits.make.training.train with their recipes. Every model, the references too, takes the raw
image and scales it in its first layer. Two ensembles are scored, their probabilities
averaged by the same function evaluate.py uses for several models: the seeds of
`accurate`, and the seed-0 models of its three different members (digits.make.networks.ENSEMBLE).

Runs are interleaved (seed 0 of every model, then seed 1, ...), so a slow spell of the
machine falls on all of them. Each trained model reads the test set once, at the end.
Training seconds are the sum of the epochs' wall times (the first includes building the
graph), the same for every model. Speed ratios are this project's median over the
reference's median from the same run: below 1 is faster.
"""

import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from digits.backend import keras
from digits.cli import ArgumentParser
from digits.make.data import VALIDATION_SIZE, load_mnist
from digits.read.inference import average_probabilities, images_per_second, predict
from digits.make.layers import raw_image
from digits.make.networks import ENSEMBLE, NETWORKS, with_overrides
from digits.make.store import save_model
from digits.make.training import train
from digits.provenance import command_line, library_versions

L = keras.layers
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def keras_io_convnet():
    return keras.Sequential(
        [
            *raw_image(L.Reshape((28, 28, 1))),
            L.Conv2D(32, 3, activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(64, 3, activation="relu"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(10, activation="softmax"),
        ]
    )


def keras_mnist_mlp():
    return keras.Sequential(
        [
            *raw_image(L.Flatten()),
            L.Dense(512, activation="relu"),
            L.Dropout(0.2),
            L.Dense(512, activation="relu"),
            L.Dropout(0.2),
            L.Dense(10, activation="softmax"),
        ]
    )


# name -> (builder, optimizer factory, epochs, fraction of training images held out)
REFERENCES = {
    "keras-io-convnet": (keras_io_convnet, lambda: keras.optimizers.Adam(), 15, 0.1),
    "keras-mnist-mlp": (keras_mnist_mlp, lambda: keras.optimizers.RMSprop(), 20, 0.0),
}
CONVNETS = ("keras-io-convnet", "cnn", *ENSEMBLE)
FACES = {"mlp": "keras-mnist-mlp", **{name: "keras-io-convnet" for name in CONVNETS[1:]}}
MODELS = ("keras-io-convnet", "keras-mnist-mlp", "mlp", "cnn", *ENSEMBLE)
ACCURATE_MINUTES = 20  # the most training time an `accurate` model may take on this machine


NOTES = (
    "Time to 99% is measured on each recipe's own validation images (the convnet's: the last "
    "10% of the training images, as keras-io does; this project's: a fixed random 5,000), so it "
    "compares only roughly. `keras-mnist-mlp` holds out nothing, so it has no validation curve."
)


class EpochClock(keras.callbacks.Callback):
    """Wall seconds and validation accuracy of each epoch, as digits.make.progress keeps them."""

    def on_train_begin(self, logs=None):
        self.seconds, self.val_accuracy = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)
        self.val_accuracy.append(float(logs.get("val_accuracy", np.nan)))


def train_reference(name, arrays, seed, epochs=None, limit=None):
    build, optimizer, default_epochs, validation = REFERENCES[name]
    epochs = epochs or default_epochs
    keras.utils.set_random_seed(seed)
    model = build()
    model.compile(optimizer=optimizer(), loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = arrays["x_train"][:limit], arrays["y_train"][:limit]
    clock = EpochClock()
    model.fit(
        x,
        keras.utils.to_categorical(y, 10),
        batch_size=128,
        epochs=epochs,
        validation_split=validation,
        callbacks=[clock],
        verbose=0,
    )
    return model, {
        "epochs": epochs,
        "epoch_seconds": clock.seconds,
        "val_accuracy": clock.val_accuracy,
        "training_images": int(len(x) * (1 - validation)),
    }


def train_ours(name, arrays, seed, epochs=None, limit=None):
    recipe = with_overrides(NETWORKS[name].recipe, epochs=epochs)
    validation = 500 if limit else VALIDATION_SIZE
    model, record = train(NETWORKS[name], arrays, recipe, seed, limit=limit, validation_size=validation, verbose=0)
    return model, {
        "epochs": recipe.epochs,
        "precision": record["config"]["precision"],
        "epoch_seconds": record["history"]["epoch_seconds"],
        "val_accuracy": record["history"]["val_accuracy"],
        "training_images": record["config"]["training_images"],
        "record": record,
    }


def cpu_name():
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def accelerator():
    """The GPU Keras trains on, by name, or None on a CPU."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = [d for d in jax.devices() if d.platform != "cpu"]
        return devices[0].device_kind if devices else None
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return (
            tf.config.experimental.get_device_details(gpus[0]).get("device_name") if gpus else None
        )
    return None


def run(models, seeds, quick, save=None, command=None):
    arrays = load_mnist()
    limit, epochs = (3000, 2) if quick else (None, None)
    x_test, y_test = (
        arrays["x_test"][: 1000 if quick else None],
        arrays["y_test"][: 1000 if quick else None],
    )
    runs = {name: [] for name in models}
    accurate_probabilities = []  # its seeds, scored together at the end as one ensemble
    members = {}  # the seed-0 probabilities of ENSEMBLE's members, the other ensemble
    for seed in range(seeds):
        for name in models:
            trainer = train_reference if name in REFERENCES else train_ours
            model, result = trainer(name, arrays, seed, epochs=epochs, limit=limit)
            probabilities = predict(model, x_test)
            result["test_accuracy"] = float(np.mean(probabilities.argmax(axis=1) == y_test))
            if name == "accurate":
                accurate_probabilities.append(probabilities)
            if name in ENSEMBLE and seed == 0:
                members[name] = probabilities
            if seed == 0:
                result["images_per_second"] = images_per_second(model, x_test)
                result["parameters"] = model.count_params()
            if save and "record" in result and (seed == 0 or name == "accurate"):
                path = Path(save) / (f"{name}.keras" if seed == 0 else f"{name}-seed{seed}.keras")
                save_model(model, {"command": command, **result.pop("record")}, path)
            result.pop("record", None)
            runs[name].append(result)
            print(
                f"  {name:18s} seed {seed}: {sum(result['epoch_seconds']):6.1f} s, "
                f"test accuracy {100 * result['test_accuracy']:.2f}%",
                flush=True,
            )

    def accuracy(probabilities):
        return float(np.mean(average_probabilities(probabilities).argmax(axis=1) == y_test))

    if accurate_probabilities:
        # what each further member adds: the first k seeds as one ensemble, k = 1, 2, ...
        by_size = [accuracy(accurate_probabilities[:k]) for k in range(1, len(accurate_probabilities) + 1)]
        runs["accurate"][0]["ensemble_by_size"] = by_size
        runs["accurate"][0]["ensemble_accuracy"] = by_size[-1]
    if len(members) == len(ENSEMBLE):
        runs["accurate"][0]["members_accuracy"] = accuracy(list(members.values()))
    return runs


def precisions(runs):
    """', except <model> (its recipe): <policy>' for each model that trained in another."""
    default = keras.mixed_precision.global_policy().name
    others = {
        name: rs[0]["precision"]
        for name, rs in runs.items()
        if rs[0].get("precision", default) != default
    }
    return "".join(f", except `{name}` (its recipe): {policy}" for name, policy in others.items())


def time_to(target, result):
    """Training seconds until validation accuracy first reached `target`, or None."""
    elapsed = np.cumsum(result["epoch_seconds"])
    reached = [i for i, v in enumerate(result["val_accuracy"]) if v >= target]
    return float(elapsed[reached[0]]) if reached else None


def table(runs):
    medians = {
        name: statistics.median(sum(r["epoch_seconds"]) for r in rs) for name, rs in runs.items()
    }
    rows = [
        "| model | parameters | epochs | training s (median) | test accuracy (mean ± std) "
        "| time to 99% val. (median) | time vs reference | inference |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, rs in runs.items():
        accuracy = 100 * np.array([r["test_accuracy"] for r in rs])
        first = rs[0]
        to99 = [time_to(0.99, r) for r in rs] if name in CONVNETS else []
        reached = [t for t in to99 if t is not None]
        to99_text = (
            "—"
            if not to99
            else (
                f"{statistics.median(reached):.1f} s"
                if len(reached) == len(to99)
                else f"{len(reached)} of {len(to99)} runs"
            )
        )
        reference = FACES.get(name)
        ratio = (
            f"x{medians[name] / medians[reference]:.2f} of `{reference}`"
            if reference in medians
            else "—"
        )
        rows.append(
            f"| `{name}` | {first['parameters']:,} | {first['epochs']} | {medians[name]:.1f} "
            f"| {accuracy.mean():.2f}% ± {accuracy.std():.2f} | {to99_text} | {ratio} "
            f"| {first['images_per_second']:,.0f} images/s |"
        )
    return "\n".join(rows), medians


def targets(runs, medians):
    """The issue's targets, each checked against this run's numbers."""

    def speed_and_accuracy(name, floor, max_ratio, wording):
        """`name` at `floor` % or better, in at most `max_ratio` of its reference's time."""
        reference = FACES[name]
        if name not in runs or reference not in runs:
            return []
        accuracy = 100 * np.mean([r["test_accuracy"] for r in runs[name]])
        ratio = medians[name] / medians[reference]
        ok = accuracy >= floor and ratio <= max_ratio
        return [f"- {wording}: {accuracy:.2f}%, x{ratio:.2f} — {'met' if ok else 'NOT met'}"]

    def most_accurate():
        if "accurate" not in runs:
            return []
        rs = runs["accurate"]
        accuracy = 100 * np.mean([r["test_accuracy"] for r in rs])
        ensemble = 100 * rs[0]["ensemble_accuracy"]
        minutes = max(sum(r["epoch_seconds"]) for r in rs) / 60
        ok = accuracy >= 99.70 and ensemble >= 99.75 and minutes < ACCURATE_MINUTES
        sizes = ", ".join(f"{k} {100 * a:.2f}%" for k, a in enumerate(rs[0]["ensemble_by_size"], 1))
        return [
            f"- most accurate single model >= 99.70% in under {ACCURATE_MINUTES} minutes, ensemble of its "
            f"{len(rs)} seed(s) >= 99.75%: {accuracy:.2f}% (slowest run {minutes:.1f} min), "
            f"ensemble {ensemble:.2f}% — {'met' if ok else 'NOT met'}",
            f"  (its first seeds as one ensemble, by how many: {sizes})",
        ]

    def different_members():
        if not set(ENSEMBLE) <= set(runs):
            return []
        ensemble = 100 * runs["accurate"][0]["members_accuracy"]
        minutes = max(sum(runs[name][0]["epoch_seconds"]) for name in ENSEMBLE) / 60
        ok = ensemble >= 99.75 and minutes < ACCURATE_MINUTES
        names = ", ".join(f"`{name}`" for name in ENSEMBLE)
        return [
            f"- or an ensemble of 3 different members, each under {ACCURATE_MINUTES} minutes, "
            f">= 99.75%: {names} (seed 0 each, slowest run {minutes:.1f} min): {ensemble:.2f}% — "
            f"{'met' if ok else 'NOT met'}"
        ]

    lines = [
        *speed_and_accuracy(
            "cnn", 99.0, 0.07, "fast CNN: >= 99.0% in <= x0.07 of the convnet's training time"
        ),
        *most_accurate(),
        *different_members(),
        *speed_and_accuracy("mlp", 99.2, 0.8, "MLP: >= 99.2% in <= x0.8 of mnist_mlp's training time"),
    ]
    if "cnn" in runs and "keras-io-convnet" in runs:
        speed, reference = (runs[name][0]["images_per_second"] for name in ("cnn", "keras-io-convnet"))
        lines.append(
            f"- CNN inference at least as fast as the convnet's: {speed:,.0f} against "
            f"{reference:,.0f} images/s — {'met' if speed >= reference else 'NOT met'}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seeds", type=int, default=3, help="runs per model, seeds 0..N-1")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 seed, 2 epochs, 3,000 training and 1,000 test images: a smoke run",
    )
    parser.add_argument(
        "--output",
        help="Markdown file for the results "
        "(default: benchmarks/RESULTS.md for a full run, none for --quick)",
    )
    parser.add_argument(
        "--mixed-precision",
        metavar="POLICY",
        choices=("mixed_float16", "mixed_bfloat16"),
        help="Keras dtype policy for every model in the run (weights stay float32); "
        "for a GPU, where half-precision arithmetic is faster",
    )
    parser.add_argument(
        "--save",
        metavar="DIR",
        help="also save the trained models of this project's recipes in DIR, each with its "
        "JSON record: seed 0 as <name>.keras, and every other seed of accurate, whose seeds "
        "make the ensemble, as accurate-seed<k>.keras",
    )
    args = parser.parse_args(argv)
    seeds = 1 if args.quick else args.seeds
    command = command_line("-m benchmarks.run", sys.argv[1:] if argv is None else argv)

    if args.mixed_precision:
        keras.mixed_precision.set_global_policy(args.mixed_precision)
    cpu = cpu_name()
    gpu = accelerator()
    started = time.strftime("%Y-%m-%d %H:%M")
    print(
        f"benchmark{' (quick)' if args.quick else ''}: {', '.join(args.models)}, {seeds} seed(s) "
        f"on {gpu or cpu}"
    )
    runs = run(args.models, seeds, args.quick, save=args.save, command=command)
    rows, medians = table(runs)
    versions = ", ".join(f"{k} {v}" for k, v in library_versions(keras.backend.backend()).items())
    report = "\n".join(
        [
            f"# Benchmark results{' (quick smoke run: not comparable)' if args.quick else ''}",
            "",
            f"Made by `{command}` on {started}: {seeds} seed(s) per model, interleaved.",
            f"Machine: {gpu} (GPU), with {cpu}." if gpu else f"Machine: {cpu}.",
            f"Keras backend: {keras.backend.backend()}; dtype policy: "
            f"{keras.mixed_precision.global_policy().name}{precisions(runs)}.",
            f"Libraries: {versions}.",
            "",
            rows,
            "",
            NOTES,
            "",
            "Targets:",
            targets(runs, medians),
            "",
        ]
    )
    print("\n" + report)
    output = args.output or (None if args.quick else RESULTS)
    if output:
        Path(output).write_text(report)
        print(f"wrote {output}")
    return runs


if __name__ == "__main__":
    main()
