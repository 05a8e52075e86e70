"""Where an epoch of the mlp's training goes: its recipe's epoch beside the same epoch with
one part taken out at a time, and Keras's mnist_mlp's epoch, in one process.

    python -m benchmarks.epoch                      # 3 rounds of 3 epochs each
    python -m benchmarks.epoch --rounds 1 --epochs 2 --limit 4000   # a quick look

Every variant trains on the same images with the recipe's batch, in turns (one fit of
--epochs epochs each, round after round), so that a slow spell of the machine falls on all
of them; an epoch's time is the median over the rounds of every epoch but each fit's first
(which builds the graph). Deterministic ops are on, as in training; the loss is plain
cross-entropy and Adam's rate fixed (what an epoch costs, not what it learns). The last
line is what the epochs of the two recipes add up to: the mlp's recipe's epochs against
mnist_mlp's 20.
"""

import argparse
import statistics

from benchmarks.run import REFERENCES, EpochClock
from digits.backend import keras
from digits.make.data import VALIDATION_SIZE, load_mnist
from digits.make.layers import augmentation, build
from digits.make.networks import NETWORKS
from digits.make.training import STEPS_PER_CALL

RECIPE = NETWORKS["mlp"].recipe


def mlp(moves=True, dropout=True):
    model = build(NETWORKS["mlp"])
    if not dropout:
        kept = [layer for layer in model.layers if not isinstance(layer, keras.layers.Dropout)]
        model = keras.Sequential([keras.Input(shape=(28, 28)), *kept])
    return keras.Sequential([augmentation(), model]) if moves else model


def ours(model, optimizer=None, steps=STEPS_PER_CALL):
    """A variant of the recipe: its batch, on MNIST's training images less the 5,000 that
    train() holds out; Adam at the recipe's peak rate unless `optimizer` is given."""
    optimizer = optimizer or keras.optimizers.Adam(RECIPE.learning_rate)
    return model, optimizer, RECIPE.batch_size, steps, 60000 - VALIDATION_SIZE


def variants():
    """name -> (model, optimizer, batch size, steps per call, training images)."""
    build, optimizer, _, _ = REFERENCES["keras-mnist-mlp"]
    sgd = keras.optimizers.SGD
    return {
        "the recipe": ours(mlp()),
        "one step per call": ours(mlp(), steps=1),
        "without the random moves": ours(mlp(moves=False)),
        "without dropout": ours(mlp(dropout=False)),
        "plain SGD for Adam": ours(mlp(), sgd()),
        "none of those three": ours(mlp(moves=False, dropout=False), sgd()),
        "keras-mnist-mlp": (build(), optimizer(), 128, 1, 60000),
    }


def measure(rounds, epochs, limit):
    """{variant: median seconds per epoch, scaled to its full training set}."""
    import tensorflow as tf  # loaded, quietly, by digits.backend

    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(0)
    arrays = load_mnist()
    x, y = arrays["x_train"], keras.utils.to_categorical(arrays["y_train"], 10)
    models = variants()
    for model, optimizer, _, steps, _ in models.values():
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", steps_per_execution=steps)
    seconds = {name: [] for name in models}
    for _ in range(rounds):
        for name, (model, _, batch, _, images) in models.items():
            count = min(images, limit or images)
            clock = EpochClock()
            model.fit(x[:count], y[:count], batch_size=batch, epochs=epochs, callbacks=[clock], verbose=0)
            seconds[name] += [s * images / count for s in clock.seconds[1:]]
    return {name: statistics.median(values) for name, values in seconds.items()}


def report(epoch):
    full = epoch["the recipe"]
    lines = ["| variant | seconds per epoch | against the recipe |", "| --- | ---: | ---: |"]
    for name, seconds in epoch.items():
        lines.append(f"| {name} | {seconds:.2f} | {seconds - full:+.2f} s ({100 * (seconds / full - 1):+.0f}%) |")
    reference_epochs = REFERENCES["keras-mnist-mlp"][2]
    ratio = RECIPE.epochs * full / (reference_epochs * epoch["keras-mnist-mlp"])
    lines.append(
        f"\n{RECIPE.epochs} epochs of the recipe against {reference_epochs} of keras-mnist-mlp: x{ratio:.2f}"
    )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="per fit; the first is not counted")
    parser.add_argument("--limit", type=int, help="train on the first N images (times scaled up)")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: each fit's first epoch is not counted")
    epoch = measure(args.rounds, args.epochs, args.limit)
    print(report(epoch))
    return epoch


if __name__ == "__main__":
    main()
