"""Training a model on the training images, watching the held-out validation images.

train() returns the trained model and a record of how it was made; digits.store saves
both. The test images are never used here. Given a folder, a run keeps its progress
there (digits.progress), so that an interrupted run resumes where it stopped.
"""

import contextlib
import platform
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from digits import DigitsError
from digits.backend import keras
from digits.calibration import calibrate
from digits.data import VALIDATION_SEED, array_checksum, one_hot, split_validation
from digits.lines import decode, make_lines
from digits.models import CTCLoss, augmentation, build_model
from digits.progress import resumable_run
from digits.recipes import LINES

# Training steps Keras runs per call into the compiled graph. Each call costs time of its
# own outside the arithmetic, which a small network pays on every step: on the 2-core CPU,
# 32 steps a call train the mlp's epoch about a seventh faster than one step a call
# (python -m benchmarks.epoch). The weights are bit-identical whatever the number (a test
# checks it); the progress bar moves once a call.
STEPS_PER_CALL = 32


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
    returned are those of the epoch with the best validation accuracy (the reader's: the
    lowest validation loss), calibrated on the validation images (digits.calibration).
    `recipe.augment` trains on randomly moved digits (models.augmentation), which the
    returned model does not contain; `recipe.mixed_precision` trains in bfloat16 (weights
    kept in float32); the model returned always computes in float32. With `state_dir`,
    every finished epoch is saved there, and a run that was interrupted resumes from its
    last finished epoch (see digits.progress.resumable_run for `resume`).
    `deterministic` makes the same seed give bit-identical weights (on this project's CPU
    at no measurable cost: see benchmarks/determinism.py).
    """
    if recipe.epochs < 1 or recipe.batch_size < 1 or recipe.learning_rate <= 0:
        raise DigitsError("epochs and batch size must be at least 1, learning rate above 0")
    # Other backends, used only by the benchmark on a GPU, run with their own defaults.
    deterministic = deterministic and keras.backend.backend() == "tensorflow"
    fit, val = training_sets(name, arrays, validation_size, limit)
    # The recipe's choice, or the policy a caller has set (the benchmark's --mixed-precision).
    precision = "mixed_bfloat16" if recipe.mixed_precision else keras.mixed_precision.dtype_policy().name
    config = run_config(name, recipe, seed, precision, deterministic, len(fit[0]), len(val[0]), limit)
    reads_lines = name == "reader"
    monitor, mode = ("val_loss", "min") if reads_lines else ("val_accuracy", "max")
    with contextlib.ExitStack() as stack:
        # Without a state_dir, the progress lives in a temporary folder, gone with the run.
        folder = state_dir or stack.enter_context(tempfile.TemporaryDirectory())
        progress = resumable_run(
            folder, config, resume if state_dir else False, monitor, mode, backup=bool(state_dir)
        )
        model, trainer = fit_model(name, recipe, seed, deterministic, precision, fit, val, progress, verbose)
        history = progress.history()
        best_epoch, best_value = progress.best(history)
        trainer.load_weights(progress.best_weights(best_epoch))
    if precision != "float32":
        # The weights are float32 already; the saved model computes in float32 too, so that
        # it gives the same answers on every machine and exports as it is.
        with dtype_policy("float32"):
            trained, model = model, build_model(name)
        model.set_weights(trained.get_weights())
    # The last stage: a temperature fitted on the validation images, so that the model's
    # confidence means what it says (digits.calibration).
    if reads_lines:  # a sequence of frames; its own figure is lines read exactly
        calibration, best_value = None, lines_read_exactly(model, *val)
    else:
        model, calibration = calibrate(model, *val)
    started_at = progress.clock.started_at
    record = {
        "model": name,
        "seed": seed,
        "config": config,
        "parameters": model.count_params(),
        "data_sha256": array_checksum(arrays),
        "versions": library_versions(),
        "history": history,
        "best_epoch": best_epoch,
        "best_val_accuracy": best_value,
        "training_seconds": round(sum(history.get("epoch_seconds", [])), 2),
        "calibration": calibration,
        "resumed_at_epoch": started_at + 1 if started_at else None,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return model, record


def run_config(name, recipe, seed, precision, deterministic, training, validation, limit):
    """What a run is made of, as its record states it and a resumed run must repeat it."""
    warmup = recipe.warmup
    return {
        "model": name,
        "epochs": recipe.epochs,
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.learning_rate,
        "schedule": f"linear warm-up over {warmup:.0%} of the steps, then cosine decay to 0"
        if warmup
        else "cosine decay to 0",
        "label_smoothing": recipe.label_smoothing,
        "augment": recipe.augment,
        "optimizer": "adam",
        "adam_betas": list(recipe.adam_betas),
        "precision": precision,
        "seed": seed,
        "deterministic": deterministic,
        "training_images": training,
        "validation_images": validation,
        "validation_seed": VALIDATION_SEED,
        "limit": limit,
    }


def fit_model(name, recipe, seed, deterministic, precision, fit, val, progress, verbose):
    """Build model `name` and fit it by `recipe`, keeping its progress with `progress`;
    return (the model, what was trained: the model, or it behind augmentation)."""
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
    steps = recipe.epochs * int(np.ceil(len(fit[0]) / recipe.batch_size))
    # Cosine decay to zero over the whole run: a few points of accuracy for free
    # compared with a constant rate. With `warmup`, the rate first climbs from a tenth of
    # its peak, which lets a short run use a high peak without diverging.
    warm, peak = int(recipe.warmup * steps), recipe.learning_rate
    schedule = keras.optimizers.schedules.CosineDecay(
        peak / 10 if warm else peak,
        decay_steps=steps - warm,
        warmup_target=peak if warm else None,
        warmup_steps=warm,
    )
    reads_lines = name == "reader"
    trainer.compile(
        optimizer=keras.optimizers.Adam(schedule, beta_1=recipe.adam_betas[0], beta_2=recipe.adam_betas[1]),
        loss=CTCLoss()
        if reads_lines
        else keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
        metrics=[] if reads_lines else ["accuracy"],
        steps_per_execution=STEPS_PER_CALL,
    )
    targets = (lambda y: y) if reads_lines else one_hot
    trainer.fit(
        fit[0],
        targets(fit[1]),
        batch_size=recipe.batch_size,
        epochs=recipe.epochs,
        validation_data=(val[0], targets(val[1])),
        callbacks=progress.callbacks,
        verbose=verbose,
    )
    return model, trainer
