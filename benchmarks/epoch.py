"""Where an epoch of the mlp's or the cnn's training goes: its recipe's epoch beside the same
epoch with one part taken out or changed at a time, and its reference's epoch (Keras's
mnist_mlp, keras-io's convnet), in one process.

    python -m benchmarks.epoch                      # the mlp: 3 rounds of 3 epochs each
    python -m benchmarks.epoch --model cnn          # the cnn against round two's and the convnet
    python -m benchmarks.epoch --rounds 1 --epochs 2 --limit 4000   # a quick look

Every variant trains on the same images with the recipe's batch, in turns (one fit of
--epochs epochs each, round after round), so that a slow spell of the machine falls on all
of them; an epoch's time is the median over the rounds of every epoch but each fit's first
(which builds the graph). Deterministic ops are on, as in training; the loss is plain
cross-entropy and Adam's rate fixed (what an epoch costs, not what it learns). The last
line is what the epochs of the two recipes add up to: the recipe's epochs against its
reference's (mnist_mlp's 20, the convnet's 15).
"""

import argparse
import statistics

from benchmarks.run import REFERENCES, EpochClock
from digits.backend import keras
from digits.make.data import VALIDATION_SIZE, load_mnist
from digits.make.layers import augmentation, build, cnn
from digits.make.networks import NETWORKS
from digits.make.training import STEPS_PER_CALL

REFERENCE = {"mlp": "keras-mnist-mlp", "cnn": "keras-io-convnet"}


def mlp(moves=True, dropout=True):
    model = build(NETWORKS["mlp"])
    if not dropout:
        kept = [layer for layer in model.layers if not isinstance(layer, keras.layers.Dropout)]
        model = keras.Sequential([keras.Input(shape=(28, 28)), *kept])
    return keras.Sequential([augmentation(), model]) if moves else model


def ours(name, model, optimizer=None, steps=STEPS_PER_CALL, batch=None):
    """A variant of `name`'s recipe: its batch (or `batch`), on MNIST's training images less
    the 5,000 that train() holds out; Adam at the recipe's peak rate unless `optimizer`."""
    recipe = NETWORKS[name].recipe
    optimizer = optimizer or keras.optimizers.Adam(recipe.learning_rate)
    return model, optimizer, batch or recipe.batch_size, steps, 60000 - VALIDATION_SIZE


def reference(name):
    build, optimizer, _, validation = REFERENCES[name]
    return build(), optimizer(), 128, 1, int(60000 * (1 - validation))


def variants(model):
    """name -> (model, optimizer, batch size, steps per call, training images)."""
    if model == "cnn":
        return {
            "the recipe": ours("cnn", cnn()),
            "one step per call": ours("cnn", cnn(), steps=1),
            "round two's 24 and 32 channels": ours("cnn", cnn((24, 32))),
            "round two's channels and batch 96": ours("cnn", cnn((24, 32)), batch=96),
            "keras-io-convnet": reference("keras-io-convnet"),
        }
    sgd = keras.optimizers.SGD
    return {
        "the recipe": ours("mlp", mlp()),
        "one step per call": ours("mlp", mlp(), steps=1),
        "without the random moves": ours("mlp", mlp(moves=False)),
        "without dropout": ours("mlp", mlp(dropout=False)),
        "plain SGD for Adam": ours("mlp", mlp(), sgd()),
        "none of those three": ours("mlp", mlp(moves=False, dropout=False), sgd()),
        "keras-mnist-mlp": reference("keras-mnist-mlp"),
    }


def measure(model, rounds, epochs, limit):
    """{variant: median seconds per epoch, scaled to its full training set}."""
    import tensorflow as tf  # loaded, quietly, by digits.backend

    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(0)
    arrays = load_mnist()
    x, y = arrays["x_train"], keras.utils.to_categorical(arrays["y_train"], 10)
    models = variants(model)
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


def report(model, epoch):
    full = epoch["the recipe"]
    lines = ["| variant | seconds per epoch | against the recipe |", "| --- | ---: | ---: |"]
    for name, seconds in epoch.items():
        lines.append(f"| {name} | {seconds:.2f} | {seconds - full:+.2f} s ({100 * (seconds / full - 1):+.0f}%) |")
    name, epochs = REFERENCE[model], NETWORKS[model].recipe.epochs
    reference_epochs = REFERENCES[name][2]
    ratio = epochs * full / (reference_epochs * epoch[name])
    lines.append(f"\n{epochs} epoch(s) of the recipe against {reference_epochs} of {name}: x{ratio:.3f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=REFERENCE, default="mlp")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="per fit; the first is not counted")
    parser.add_argument("--limit", type=int, help="train on the first N images (times scaled up)")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: each fit's first epoch is not counted")
    epoch = measure(args.model, args.rounds, args.epochs, args.limit)
    print(report(args.model, epoch))
    return epoch


if __name__ == "__main__":
    main()
