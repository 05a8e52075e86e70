"""Training a network by its description (digits.make.networks), watching held-out
validation data, keeping the best epoch.

train() returns the trained model and a record of how it was made; digits.make.store saves
both. What a network learns decides its data, loss and monitor (TASKS): MNIST's ten
classes, whole lines read with CTC, or digit against not a digit. The test images are
never used here. Given a folder, a run keeps its progress there (digits.make.progress), so
that an interrupted run resumes where it stopped.
"""

import contextlib
import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from digits import NUM_CLASSES, DigitsError
from digits.backend import keras
from digits.make import detector
from digits.make.calibration import calibrate
from digits.make.data import VALIDATION_SEED, VALIDATION_SIZE, array_checksum, split_validation
from digits.make.layers import CTCLoss, augmentation, build
from digits.make.lines import make_lines
from digits.make.progress import resumable_run
from digits.make.synthetic import continental
from digits.provenance import library_versions
from digits.read.strip import decode

# Training steps Keras runs per call into the compiled graph. Each call costs time of its
# own outside the arithmetic, which a small network pays on every step: on the 2-core CPU,
# 32 steps a call train the mlp's epoch about a seventh faster than one step a call
# (python -m benchmarks.epoch). The weights are bit-identical whatever the number (a test
# checks it); the progress bar moves once a call.
STEPS_PER_CALL = 32
# The line reader's training lines (and a tenth as many for validation).
LINES = 60000
# The test lines an export of the line reader is checked on (digits.make.export).
TEST_LINES = 2000


@contextlib.contextmanager
def dtype_policy(name):
    """Keras's global dtype policy set to `name` for the length of a `with`."""
    saved = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(saved)


def digit_sets(arrays, validation_size, limit, seed):
    """MNIST's training images (the first `limit`) less a seeded hold-out of
    `validation_size`: ((x_fit, y_fit), (x_val, y_val))."""
    x, y = arrays["x_train"][:limit], arrays["y_train"][:limit]
    return split_validation(x, y, validation_size)


def line_sets(arrays, validation_size, limit, seed):
    """Lines made by digits.make.lines from those same two parts of MNIST (and the training
    and development font families): LINES (or `limit`) and a tenth as many."""
    count = min(limit or LINES, LINES)
    return make_lines("train", arrays, count), make_lines("dev", arrays, max(count // 10, 1))


def made_test_lines(arrays):
    return make_lines("test", arrays, TEST_LINES)[0]


def mnist_test_images(arrays):
    return arrays["x_test"]


def lines_read_exactly(model, val):
    """(model, {}, the fraction of validation lines whose best path is exactly their label)."""
    x, y = val
    probabilities = model.predict(x, batch_size=256, verbose=0)
    right = [
        [symbol.cls for symbol in decode(p)] == list(label[1 : 1 + label[0]])
        for p, label in zip(probabilities, y)
    ]
    return model, {}, float(np.mean(right))


def calibrated(model, val):
    """(`model` calibrated on the validation images, what that did, None: the best
    epoch's validation accuracy stands)."""
    model, calibration = calibrate(model, *val)
    return model, {"calibration": calibration}, None


def with_threshold(model, val):
    """(the detector, its threshold and what it refuses, None: the best epoch's
    validation accuracy stands)."""
    return model, detector.choose_threshold(model, val), None


@dataclass(frozen=True)
class Task:
    """What a network learns: its data, the targets and loss it trains on, the validation
    figure that picks the best epoch, the last step (`finish`) after training, and the
    test inputs its exports are checked on."""

    sets: Callable  # (arrays, validation_size, limit, seed) -> (fit, val)
    targets: Callable  # labels -> what the loss takes
    loss: Callable  # recipe -> a Keras loss
    monitor: tuple  # (validation figure, "max" or "min")
    finish: Callable  # (model, val) -> (model, record entries, best figure or None)
    test_inputs: Callable = mnist_test_images  # arrays -> inputs
    metrics: tuple = ("accuracy",)
    try_it: str = "test it with: python evaluate.py --model {path}"  # what train.py suggests


def one_hot(classes):
    return lambda y: keras.utils.to_categorical(y, classes).astype(np.float32)


def cross_entropy(recipe):
    return keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)


TASKS = {
    "digits": Task(digit_sets, one_hot(NUM_CLASSES), cross_entropy, ("val_accuracy", "max"), calibrated),
    "lines": Task(line_sets, np.asarray, lambda recipe: CTCLoss(), ("val_loss", "min"), lines_read_exactly,
                  made_test_lines, (), "read with it: python predict.py --reader {path} IMAGE"),
    "detector": Task(detector.training_sets, one_hot(2), cross_entropy, ("val_accuracy", "max"), with_threshold,
                     try_it="read with it: python predict.py --detector {path} IMAGE"),
}


def train(
    network,
    arrays,
    recipe=None,
    seed=0,
    *,
    validation_size=VALIDATION_SIZE,
    limit=None,
    verbose=2,
    state_dir=None,
    resume=None,
    deterministic=True,
):
    """Train `network` (a digits.make.networks.Network) on MNIST `arrays` (from load_mnist)
    by `recipe` (its own by default); return (model, record).

    `limit` keeps only the first N training images (lines), for quick smoke runs. The
    weights returned are those of the epoch with the best validation figure (its task's
    monitor), then finished by its task: classifiers calibrated on the validation images
    (digits.make.calibration), the detector given its threshold, the line reader scored
    by the validation lines it reads exactly.
    `recipe.augment` trains on randomly moved digits (layers.augmentation), which the
    returned model does not contain; `recipe.mixed_precision` trains in bfloat16 (weights
    kept in float32); the model returned always computes in float32. With `state_dir`,
    every finished epoch is saved there, and a run that was interrupted resumes from its
    last finished epoch (see digits.make.progress.resumable_run for `resume`).
    `deterministic` makes the same seed give bit-identical weights (on this project's CPU
    at no measurable cost: see benchmarks/determinism.py).
    """
    recipe = recipe or network.recipe
    task = TASKS[network.task]
    if recipe.epochs < 1 or recipe.batch_size < 1 or recipe.learning_rate <= 0:
        raise DigitsError("epochs and batch size must be at least 1, learning rate above 0")
    # Other backends, used only by the benchmark on a GPU, run with their own defaults.
    deterministic = deterministic and keras.backend.backend() == "tensorflow"
    fit, val = task.sets(arrays, validation_size, limit, seed)
    if recipe.continental:  # training digits only: validation stays MNIST's own
        fit = (continental(fit[0], fit[1], recipe.continental, seed), fit[1])
    # The recipe's choice, or the policy a caller has set (the benchmark's --mixed-precision).
    precision = "mixed_bfloat16" if recipe.mixed_precision else keras.mixed_precision.dtype_policy().name
    config = run_config(network.name, recipe, seed, precision, deterministic, len(fit[0]), len(val[0]), limit)
    monitor, mode = task.monitor
    with contextlib.ExitStack() as stack:
        # Without a state_dir, the progress lives in a temporary folder, gone with the run.
        folder = state_dir or stack.enter_context(tempfile.TemporaryDirectory())
        progress = resumable_run(
            folder, config, resume if state_dir else False, monitor, mode, backup=bool(state_dir)
        )
        model, trainer = fit_model(network, task, recipe, seed, deterministic, precision, fit, val, progress, verbose)
        history = progress.history()
        best_epoch, best_value = progress.best(history)
        trainer.load_weights(progress.best_weights(best_epoch))
    if precision != "float32":
        # The weights are float32 already; the saved model computes in float32 too, so that
        # it gives the same answers on every machine and exports as it is.
        with dtype_policy("float32"):
            trained, model = model, build(network)
        model.set_weights(trained.get_weights())
    model, finished, figure = task.finish(model, val)
    started_at = progress.clock.started_at
    record = {
        "model": network.name,
        "seed": seed,
        "config": config,
        "parameters": model.count_params(),
        "data_sha256": array_checksum(arrays),
        "versions": library_versions(keras.backend.backend()),
        "history": history,
        "best_epoch": best_epoch,
        "best_val_accuracy": best_value if figure is None else figure,
        "training_seconds": round(sum(history.get("epoch_seconds", [])), 2),
        "calibration": None,
        **finished,
        "resumed_at_epoch": started_at + 1 if started_at else None,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return model, record


def run_config(name, recipe, seed, precision, deterministic, training, validation, limit):
    """What a run is made of, as its record states it and a resumed run must repeat it: the
    recipe whole, and what else decides the weights (as JSON has it: lists, not tuples)."""
    return json.loads(json.dumps({
        "model": name,
        **dataclasses.asdict(recipe),
        "precision": precision,
        "seed": seed,
        "deterministic": deterministic,
        "training_images": training,
        "validation_images": validation,
        "validation_seed": VALIDATION_SEED,
        "limit": limit,
    }))


def fit_model(network, task, recipe, seed, deterministic, precision, fit, val, progress, verbose):
    """Build `network` and fit it by `recipe`, keeping its progress with `progress`;
    return (the model, what was trained: the model, or it behind augmentation)."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        # TensorFlow has no public switch back; a process that wants both kinds of run
        # must start the fast ones first.
        import tensorflow as tf  # already loaded under Keras, via digits.backend

        tf.config.experimental.enable_op_determinism()
    with dtype_policy(precision):
        model = build(network)
        # Augmentation wraps the model for training only: the model stays inference layers.
        trainer = (
            keras.Sequential([augmentation(recipe.soft_scans), model], name=f"{network.name}_augmented")
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
    trainer.compile(
        optimizer=keras.optimizers.Adam(schedule, beta_1=recipe.adam_betas[0], beta_2=recipe.adam_betas[1]),
        loss=task.loss(recipe),
        metrics=list(task.metrics),
        steps_per_execution=STEPS_PER_CALL,
    )
    trainer.fit(
        fit[0],
        task.targets(fit[1]),
        batch_size=recipe.batch_size,
        epochs=recipe.epochs,
        validation_data=(val[0], task.targets(val[1])),
        callbacks=progress.callbacks,
        verbose=verbose,
    )
    return model, trainer
