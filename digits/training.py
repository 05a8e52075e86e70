"""Training a model on the training images, watching the held-out validation images.

train() returns the trained model and a record of how it was made; save_model()
writes both, the record as JSON beside the model. The test images are never used here.
"""

import contextlib
import logging
import platform
import sys
import time
from pathlib import Path

import h5py
import matplotlib
import numpy as np

from digits import DigitsError
from digits.backend import keras
from digits.data import VALIDATION_SEED, array_checksum, one_hot, prepare_images, split_validation
from digits.files import atomic_output, write_json
from digits.models import build_model

MODEL_SUFFIXES = (".keras", ".h5")


def library_versions():
    import tensorflow as tf  # already loaded under Keras, via digits.backend

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "matplotlib": matplotlib.__version__,
    }


def check_output_path(path):
    """Fail before training, not after, if the model could not be saved at `path`."""
    path = Path(path)
    if path.suffix not in MODEL_SUFFIXES:
        raise DigitsError(f"--output {path}: the file name must end in .keras or .h5")
    if path.is_dir():
        raise DigitsError(
            f"--output {path} is a directory; give a file name such as {path}/mlp.keras"
        )
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise DigitsError(f"--output {path}: {parent} is a file, not a directory")


def train(
    name,
    arrays,
    *,
    epochs,
    batch_size,
    learning_rate,
    seed=0,
    validation_size=5000,
    limit=None,
    verbose=2,
):
    """Train model `name` on MNIST `arrays` (from load_mnist); return (model, record).

    `limit` keeps only the first N training images, for quick smoke runs. The weights
    returned are those of the epoch with the best validation accuracy.
    """
    if epochs < 1 or batch_size < 1 or learning_rate <= 0:
        raise DigitsError("epochs and batch size must be at least 1, learning rate above 0")
    x, y = arrays["x_train"], arrays["y_train"]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    (x_fit, y_fit), (x_val, y_val) = split_validation(x, y, validation_size)

    keras.utils.set_random_seed(seed)
    model = build_model(name)
    shape = model.input_shape[1:]
    steps = epochs * int(np.ceil(len(x_fit) / batch_size))
    # Cosine decay to zero over the whole run: a few points of accuracy for free
    # compared with a constant rate, and no schedule to tune.
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    keep_best = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=epochs, restore_best_weights=True
    )
    start = time.perf_counter()
    history = model.fit(
        prepare_images(x_fit, shape),
        one_hot(y_fit),
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(prepare_images(x_val, shape), one_hot(y_val)),
        callbacks=[keep_best],
        verbose=verbose,
    )
    seconds = time.perf_counter() - start

    val_accuracy = history.history["val_accuracy"]
    best_epoch = int(np.argmax(val_accuracy))
    record = {
        "model": name,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "seed": seed,
        "config": {
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "schedule": "cosine decay to 0",
            "optimizer": "adam",
            "training_images": len(x_fit),
            "validation_images": len(x_val),
            "validation_seed": VALIDATION_SEED,
            "limit": limit,
        },
        "parameters": model.count_params(),
        "data_sha256": array_checksum(arrays),
        "versions": library_versions(),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "best_epoch": best_epoch + 1,
        "best_val_accuracy": float(val_accuracy[best_epoch]),
        "training_seconds": round(seconds, 2),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return model, record


def record_path(model_path):
    """models/mlp.keras -> models/mlp.json"""
    return Path(model_path).with_suffix(".json")


@contextlib.contextmanager
def _no_legacy_format_warning():
    """Keras warns that .h5 is a legacy format; whoever asked for .h5 knows."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def save_model(model, record, path, h5_copy=False):
    """Write the model (and an .h5 copy if asked) and its JSON record, each atomically."""
    path = Path(path)
    check_output_path(path)
    targets = [path] + ([path.with_suffix(".h5")] if h5_copy and path.suffix != ".h5" else [])
    # Saved without the optimizer's state, which would triple the file for no use:
    # evaluation and prediction need only the weights.
    bare = build_model(record["model"])
    bare.set_weights(model.get_weights())
    for target in targets:
        with atomic_output(target) as tmp, _no_legacy_format_warning():
            bare.save(tmp)
    write_json(record_path(path), record)
    return targets
