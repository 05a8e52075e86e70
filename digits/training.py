"""Training a model on the training images, watching the held-out validation images.

train() returns the trained model and a record of how it was made; save_model()
writes both, the record as JSON beside the model. The test images are never used here.
"""

import contextlib
import json
import logging
import platform
import shutil
import time
from pathlib import Path

import h5py
import matplotlib
import numpy as np

from digits import DigitsError
from digits.backend import keras
from digits.data import VALIDATION_SEED, array_checksum, one_hot, prepare_images, split_validation
from digits.files import atomic_output, record_path, sha256_of, write_json
from digits.models import build_model

MODEL_SUFFIXES = (".keras", ".h5")


def library_versions():
    """Versions of what trained a model: Keras's backend library under its own name."""
    backend = keras.backend.backend()  # "tensorflow", or "jax" on the benchmark's GPU run
    return {
        "python": platform.python_version(),
        backend: __import__(backend).__version__,
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


class TrainingState(keras.callbacks.Callback):
    """Keeps the per-epoch history and the best epoch's weights, and puts those back at the end.

    Keras's BackupAndRestore saves what the next epoch needs (weights, optimizer state,
    epoch counter); this saves the rest of a run (the history of the epochs before, the
    best weights so far, the seconds spent) into `folder`, so that a resumed run ends with
    the same kind of record as an uninterrupted one. Every file is written atomically.
    """

    def __init__(self, config, folder=None):
        super().__init__()
        self.config = config
        self.folder = Path(folder) if folder else None
        self.history, self.best_epoch, self.best_val_accuracy, self.seconds = {}, None, -1.0, 0.0
        self.best_weights, self.resumed_at = None, None

    def load(self):
        """Read the saved state; return the configuration that run was started with."""
        state = json.loads((self.folder / "state.json").read_text())
        self.history, self.seconds = state["history"], state["seconds"]
        self.best_epoch, self.best_val_accuracy = state["best_epoch"], state["best_val_accuracy"]
        if self.best_epoch is not None:
            with np.load(self.folder / "best.weights.npz", allow_pickle=False) as saved:
                self.best_weights = [saved[f"w{i}"] for i in range(len(saved.files))]
        return state["config"]

    def on_epoch_begin(self, epoch, logs=None):
        if self.resumed_at is None:
            self.resumed_at = epoch
            if epoch > 0:
                print(f"resuming an interrupted run at epoch {epoch + 1}")
            # An epoch whose end was recorded here but not in Keras's backup runs again.
            self.history = {k: v[:epoch] for k, v in self.history.items()}
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._epoch_start
        self.seconds += seconds
        for key, value in {**logs, "epoch_seconds": seconds}.items():
            self.history.setdefault(key, []).append(float(value))
        if logs["val_accuracy"] > self.best_val_accuracy:
            self.best_epoch, self.best_val_accuracy = epoch + 1, float(logs["val_accuracy"])
            self.best_weights = self.model.get_weights()
            if self.folder:
                with atomic_output(self.folder / "best.weights.npz") as tmp:
                    np.savez(tmp, **{f"w{i}": w for i, w in enumerate(self.best_weights)})
        if self.folder:
            write_json(self.folder / "state.json", self.to_json())

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    def to_json(self):
        return {
            "config": self.config,
            "history": self.history,
            "best_epoch": self.best_epoch,
            "best_val_accuracy": self.best_val_accuracy,
            "seconds": self.seconds,
        }


def open_state(folder, config, resume):
    """A TrainingState for a run with `config`, resuming what `folder` holds if it matches.

    resume: None resumes a matching interrupted run if there is one, True insists on one,
    False discards any.
    """
    folder = Path(folder)
    state = TrainingState(config, folder)
    backup_made = (folder / "keras" / "training_metadata.json").is_file()
    if resume is False or not backup_made or not (folder / "state.json").is_file():
        if resume:
            raise DigitsError(f"--resume: there is no interrupted run to resume in {folder}")
        shutil.rmtree(folder, ignore_errors=True)
        return state
    try:
        saved_config = state.load()
    except (OSError, ValueError, KeyError) as err:
        raise DigitsError(
            f"the saved state in {folder} is unreadable ({err}); add --fresh to start over"
        ) from None
    if saved_config != config:
        changed = ", ".join(
            f"{k} {saved_config.get(k)} -> {config.get(k)}"
            for k in config
            if saved_config.get(k) != config.get(k)
        )
        raise DigitsError(
            f"an interrupted run with other settings ({changed}) is saved in {folder}; "
            f"run the same command as before to resume it, or add --fresh to discard it"
        )
    return state


def train(
    name,
    arrays,
    *,
    epochs,
    batch_size,
    learning_rate,
    warmup=0.0,
    label_smoothing=0.0,
    seed=0,
    validation_size=5000,
    limit=None,
    verbose=2,
    state_dir=None,
    resume=None,
    deterministic=True,
):
    """Train model `name` on MNIST `arrays` (from load_mnist); return (model, record).

    `limit` keeps only the first N training images, for quick smoke runs. The weights
    returned are those of the epoch with the best validation accuracy. With `state_dir`,
    every finished epoch is saved there, and a run that was interrupted resumes from its
    last finished epoch (see open_state for `resume`). `deterministic` makes the same
    seed give bit-identical weights (on this project's CPU at no measurable cost: see
    benchmarks/determinism.py).
    """
    if epochs < 1 or batch_size < 1 or learning_rate <= 0:
        raise DigitsError("epochs and batch size must be at least 1, learning rate above 0")
    # Other backends, used only by the benchmark on a GPU, run with their own defaults.
    deterministic = deterministic and keras.backend.backend() == "tensorflow"
    x, y = arrays["x_train"], arrays["y_train"]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    (x_fit, y_fit), (x_val, y_val) = split_validation(x, y, validation_size)
    config = {
        "model": name,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "schedule": f"linear warm-up over {warmup:.0%} of the steps, then cosine decay to 0"
        if warmup
        else "cosine decay to 0",
        "label_smoothing": label_smoothing,
        "optimizer": "adam",
        "seed": seed,
        "deterministic": deterministic,
        "training_images": len(x_fit),
        "validation_images": len(x_val),
        "validation_seed": VALIDATION_SEED,
        "limit": limit,
    }
    if state_dir is None:
        state, callbacks = TrainingState(config), []
    else:
        state = open_state(state_dir, config, resume)
        backup = keras.callbacks.BackupAndRestore(Path(state_dir) / "keras", double_checkpoint=True)
        callbacks = [backup]

    keras.utils.set_random_seed(seed)
    if deterministic:
        # TensorFlow has no public switch back; a process that wants both kinds of run
        # must start the fast ones first.
        import tensorflow as tf  # already loaded under Keras, via digits.backend

        tf.config.experimental.enable_op_determinism()
    model = build_model(name)
    shape = model.input_shape[1:]
    steps = epochs * int(np.ceil(len(x_fit) / batch_size))
    # Cosine decay to zero over the whole run: a few points of accuracy for free
    # compared with a constant rate. With `warmup`, the rate first climbs from a tenth of
    # its peak, which lets a short run use a high peak without diverging.
    warm = int(warmup * steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate / 10 if warm else learning_rate,
        decay_steps=steps - warm,
        warmup_target=learning_rate if warm else None,
        warmup_steps=warm,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    model.fit(
        prepare_images(x_fit, shape),
        one_hot(y_fit),
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(prepare_images(x_val, shape), one_hot(y_val)),
        callbacks=[*callbacks, state],
        verbose=verbose,
    )
    record = {
        "model": name,
        "seed": seed,
        "config": config,
        "parameters": model.count_params(),
        "data_sha256": array_checksum(arrays),
        "versions": library_versions(),
        "history": state.history,
        "best_epoch": state.best_epoch,
        "best_val_accuracy": state.best_val_accuracy,
        "training_seconds": round(state.seconds, 2),
        "resumed_at_epoch": state.resumed_at + 1 if state.resumed_at else None,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return model, record


def state_folder(model_path):
    """models/mlp.keras -> models/.mlp.resume/, where an unfinished run keeps its progress."""
    path = Path(model_path)
    return path.with_name(f".{path.stem}.resume")


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
    # The checksums let load_model notice a model file that changed after it was written.
    record = {**record, "files": {t.name: sha256_of(t) for t in targets}}
    write_json(record_path(path), record)
    return targets
