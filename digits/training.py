"""Training a model on the training images, watching the held-out validation images.

train() returns the trained model and a record of how it was made; digits.store saves
both. The test images are never used here. A run keeps its progress in a folder beside
its output (resumable_run) so that an interrupted run resumes where it stopped, and
holds a lock there so that a second run on the same output is refused while it lasts.
"""

import contextlib
import fcntl
import json
import os
import platform
import shutil
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from digits import DigitsError
from digits.backend import keras
from digits.calibration import calibrate
from digits.data import VALIDATION_SEED, array_checksum, one_hot, split_validation
from digits.files import atomic_output, write_json
from digits.lines import decode, make_lines
from digits.models import CTCLoss, augmentation, build_model
from digits.recipes import LINES


@contextlib.contextmanager
def dtype_policy(name):
    """Keras's global dtype policy set to `name` for the length of a `with`."""
    saved = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(saved)


def library_versions():
    """Versions of what trained a model: Keras's backend library under its own name."""
    backend = keras.backend.backend()  # "tensorflow", or "jax" on the benchmark's GPU run
    versions = {
        "python": platform.python_version(),
        backend: __import__(backend).__version__,
        "keras": keras.__version__,
    }
    for package in ("numpy", "h5py", "matplotlib"):
        with contextlib.suppress(PackageNotFoundError):
            versions[package] = version(package)
    return versions


class TrainingState(keras.callbacks.Callback):
    """The per-epoch history and seconds of a run, and what a resumed run needs of it.

    Keras's BackupAndRestore saves what the next epoch needs (weights, optimizer state,
    epoch counter) and EarlyStopping(restore_best_weights=True) keeps the best epoch's
    weights; with a `folder`, this saves the rest (the history of the epochs before, the
    best epoch and its weights, the seconds spent) after every epoch, atomically, and
    hands the best epoch back to `best` when a run resumes, so that a resumed run ends
    with the same weights and record as an uninterrupted one.
    """

    def __init__(self, config, best, folder=None):
        super().__init__()
        self.config, self.best = config, best
        self.folder = Path(folder) if folder else None
        self.history, self.seconds, self.resumed_at, self.saved_best = {}, 0.0, None, None

    def load(self):
        """Read the saved state; return the configuration that run was started with."""
        state = json.loads((self.folder / "state.json").read_text())
        self.history, self.seconds = state["history"], state["seconds"]
        if state["best_epoch"] is not None:
            with np.load(self.folder / "best.weights.npz", allow_pickle=False) as saved:
                weights = [saved[f"w{i}"] for i in range(len(saved.files))]
            self.saved_best = (state["best_epoch"], state["best_val_accuracy"], weights)
        return state["config"]

    def on_train_begin(self, logs=None):
        if self.saved_best:  # after EarlyStopping's own on_train_begin has reset it
            epoch, accuracy, weights = self.saved_best
            self.best.best_epoch, self.best.best, self.best.best_weights = epoch - 1, accuracy, weights

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
        if self.folder:
            if self.best.best_epoch == epoch:  # EarlyStopping has just taken these weights
                with atomic_output(self.folder / "best.weights.npz") as tmp:
                    np.savez(tmp, **{f"w{i}": w for i, w in enumerate(self.best.best_weights)})
            write_json(self.folder / "state.json", {"config": self.config, **self.summary()})

    def summary(self):
        best_epoch = self.best.best_epoch + 1 if self.best.best_weights is not None else None
        return {
            "history": self.history,
            "best_epoch": best_epoch,
            "best_val_accuracy": float(self.best.best) if best_epoch else None,
            "seconds": self.seconds,
        }


def progress_folder(model_path):
    """models/mlp.keras -> models/.mlp.resume/, where a run keeps its progress and its lock."""
    path = Path(model_path)
    return path.with_name(f".{path.stem}.resume")


def lock_path(model_path):
    """models/mlp.keras -> models/.mlp.keras.lock, which train.py holds while it runs."""
    path = Path(model_path)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def one_run_per_output(model_path):
    """Hold a lock on `model_path`'s output for the length of a `with`, or refuse at once.

    The lock is the operating system's (flock), held on an open file: it goes away with
    the process that held it, so a crashed or killed run never leaves it stuck.
    """
    path = Path(model_path)
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise DigitsError(
                f"another train.py (pid {handle.read().strip() or '?'}) is writing {path}; "
                f"wait for it to finish, or give this run another --output"
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        # Temporary files of this output's save that a killed run left behind: with the
        # lock held, no other run can be writing them (digits.files.atomic_output).
        for stale in path.parent.glob(f".{path.stem}.*.tmp*"):
            stale.unlink(missing_ok=True)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)


def resumable_run(folder, config, resume, best):
    """A TrainingState for a run with `config`, resuming what `folder` holds if it matches.

    resume: None resumes a matching interrupted run if there is one, True insists on one,
    False discards any.
    """
    folder = Path(folder)
    state = TrainingState(config, best, folder)
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


def training_sets(name, arrays, validation_size=5000, limit=None):
    """((x_fit, y_fit), (x_val, y_val)): MNIST's training images less a seeded hold-out of
    `validation_size`; for the reader, lines made by digits.lines from those same two
    parts (and the training and development font families), LINES and a tenth as many.
    `limit` keeps the first N images (N lines), for quick smoke runs."""
    if name == "reader":
        count = min(limit or LINES, LINES)
        return make_lines("train", arrays, count), make_lines("dev", arrays, max(count // 10, 1))
    x, y = arrays["x_train"], arrays["y_train"]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return split_validation(x, y, validation_size)


def lines_read_exactly(model, x, y):
    """The fraction of lines whose best path is exactly their label."""
    probabilities = model.predict(x, batch_size=256, verbose=0)
    right = [
        [cls for cls, *_ in decode(p)] == list(label[1 : 1 + label[0]])
        for p, label in zip(probabilities, y)
    ]
    return float(np.mean(right))


def train(
    name,
    arrays,
    recipe,
    seed=0,
    *,
    validation_size=5000,
    limit=None,
    verbose=2,
    state_dir=None,
    resume=None,
    deterministic=True,
):
    """Train model `name` on MNIST `arrays` (from load_mnist) by `recipe` (a
    digits.recipes.Recipe); return (model, record).

    `limit` keeps only the first N training images, for quick smoke runs. The weights
    returned are those of the epoch with the best validation accuracy, calibrated on the
    validation images (digits.calibration). `recipe.augment` trains on randomly moved
    digits (models.augmentation), which the returned model does not contain;
    `recipe.mixed_precision` trains in bfloat16 (weights kept in float32); the model
    returned always computes in float32. With `state_dir`, every finished epoch is saved
    there, and a run that was interrupted resumes from its last finished epoch (see
    resumable_run for `resume`).
    `deterministic` makes the same seed give bit-identical weights (on this project's CPU
    at no measurable cost: see benchmarks/determinism.py).
    """
    epochs, batch_size, learning_rate = recipe.epochs, recipe.batch_size, recipe.learning_rate
    warmup, adam_betas = recipe.warmup, recipe.adam_betas
    if epochs < 1 or batch_size < 1 or learning_rate <= 0:
        raise DigitsError("epochs and batch size must be at least 1, learning rate above 0")
    # Other backends, used only by the benchmark on a GPU, run with their own defaults.
    deterministic = deterministic and keras.backend.backend() == "tensorflow"
    (x_fit, y_fit), (x_val, y_val) = training_sets(name, arrays, validation_size, limit)
    # The recipe's choice, or the policy a caller has set (the benchmark's --mixed-precision).
    precision = "mixed_bfloat16" if recipe.mixed_precision else keras.mixed_precision.dtype_policy().name
    config = {
        "model": name,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "schedule": f"linear warm-up over {warmup:.0%} of the steps, then cosine decay to 0"
        if warmup
        else "cosine decay to 0",
        "label_smoothing": recipe.label_smoothing,
        "augment": recipe.augment,
        "optimizer": "adam",
        "adam_betas": list(adam_betas),
        "precision": precision,
        "seed": seed,
        "deterministic": deterministic,
        "training_images": len(x_fit),
        "validation_images": len(x_val),
        "validation_seed": VALIDATION_SEED,
        "limit": limit,
    }
    # Keeps the weights of the epoch with the best validation accuracy (the reader's: the
    # lowest validation loss), and puts them back at the end (patience = epochs: it never
    # stops a run early).
    reads_lines = name == "reader"
    best = keras.callbacks.EarlyStopping(
        monitor="val_loss" if reads_lines else "val_accuracy",
        mode="min" if reads_lines else "max",
        patience=epochs,
        restore_best_weights=True,
    )
    if state_dir is None:
        state, callbacks = TrainingState(config, best), []
    else:
        state = resumable_run(state_dir, config, resume, best)
        backup = keras.callbacks.BackupAndRestore(Path(state_dir) / "keras", double_checkpoint=True)
        callbacks = [backup]

    keras.utils.set_random_seed(seed)
    if deterministic:
        # TensorFlow has no public switch back; a process that wants both kinds of run
        # must start the fast ones first.
        import tensorflow as tf  # already loaded under Keras, via digits.backend

        tf.config.experimental.enable_op_determinism()
    with dtype_policy(precision):
        model = build_model(name)
        # Augmentation wraps the model for training only: the model stays inference layers.
        trainer = (
            keras.Sequential([augmentation(), model], name=f"{name}_augmented")
            if recipe.augment
            else model
        )
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
    trainer.compile(
        optimizer=keras.optimizers.Adam(schedule, beta_1=adam_betas[0], beta_2=adam_betas[1]),
        loss=CTCLoss()
        if reads_lines
        else keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
        metrics=[] if reads_lines else ["accuracy"],
    )
    targets = (lambda y: y) if reads_lines else one_hot
    trainer.fit(
        x_fit,
        targets(y_fit),
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_val, targets(y_val)),
        # Keras's backup of an epoch is written first (a run stopped while `state` records
        # it resumes after it all the same), and `best` takes an epoch's weights before
        # `state` saves them.
        callbacks=[*callbacks, best, state],
        verbose=verbose,
    )
    if precision != "float32":
        # The weights are float32 already; the saved model computes in float32 too, so that
        # it gives the same answers on every machine and exports as it is.
        with dtype_policy("float32"):
            trained, model = model, build_model(name)
        model.set_weights(trained.get_weights())
    # The last stage: a temperature fitted on the validation images, so that the model's
    # confidence means what it says (digits.calibration).
    if reads_lines:  # a sequence of frames; its own figure is lines read exactly
        calibration = None
        val_accuracy = lines_read_exactly(model, x_val, y_val)
    else:
        model, calibration = calibrate(model, x_val, y_val)
    summary = state.summary()
    record = {
        "model": name,
        "seed": seed,
        "config": config,
        "parameters": model.count_params(),
        "data_sha256": array_checksum(arrays),
        "versions": library_versions(),
        "history": summary["history"],
        "best_epoch": summary["best_epoch"],
        "best_val_accuracy": val_accuracy if reads_lines else summary["best_val_accuracy"],
        "training_seconds": round(summary["seconds"], 2),
        "calibration": calibration,
        "resumed_at_epoch": state.resumed_at + 1 if state.resumed_at else None,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return model, record
