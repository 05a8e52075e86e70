"""Loading a saved model safely, classifying images, and scoring the predictions.

The metric functions are plain numpy over label arrays, so tests can check them
against hand-computed values.
"""

import time
import zipfile
from pathlib import Path

import numpy as np

from digits import DigitsError
from digits.data import NUM_CLASSES, prepare_images, to_model_input
from digits.files import read_record, record_path, sha256_of

# What a model must take and give: a flat 784 vector or a 28x28x1 image, 10 probabilities.
INPUT_SHAPES = ((784,), (28, 28, 1))


def load_model(path):
    """Load a .keras or .h5 model in Keras's safe mode and check it fits MNIST.

    Safe mode refuses archives that carry code (Lambda layers). The model is loaded
    uncompiled: evaluation computes its own loss, so no optimizer state is needed.
    """
    path = Path(path)
    hint = "train one with 'python train.py', or pass --model PATH"
    if not path.exists():
        raise DigitsError(f"no model at {path}; {hint}")
    if path.is_dir():
        raise DigitsError(f"{path} is a directory, not a model file; {hint}")
    if path.suffix not in (".keras", ".h5"):
        raise DigitsError(f"{path}: a model file must end in .keras or .h5")
    if path.suffix == ".keras":
        check_archive(path)
    expected = (read_record(path) or {}).get("files", {}).get(path.name)
    if expected is not None and sha256_of(path) != expected:
        raise DigitsError(
            f"{path} has changed since train.py wrote it (its checksum differs from the one in "
            f"{record_path(path).name}); restore it or train it again"
        )
    from digits.backend import keras  # deferred until the path is known to be worth trying

    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # Keras raises many types for a bad file; all mean the same here
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "arbitrary code execution" in reason or "safe_mode" in reason:
            raise DigitsError(
                f"{path} was refused: it carries Python code (such as a Lambda layer), which "
                f"Keras's safe mode does not run; use a model built from standard layers"
            ) from None
        raise DigitsError(f"{path} is not a readable Keras model: {reason[:200]}") from None
    input_shape, output_shape = tuple(model.input_shape[1:]), tuple(model.output_shape[1:])
    if input_shape not in INPUT_SHAPES or output_shape != (NUM_CLASSES,):
        raise DigitsError(
            f"{path} takes {input_shape} and gives {output_shape}; an MNIST model must take "
            f"(784,) or (28, 28, 1) and give ({NUM_CLASSES},)"
        )
    return model


def check_archive(path):
    """A .keras file is a zip archive; check that it is whole, every byte (CRC-32)."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        raise DigitsError(
            f"{path} is not a Keras model (not a .keras archive, maybe truncated)"
        ) from None
    if bad is not None:
        raise DigitsError(f"{path} is corrupt: {bad} inside it fails its CRC check")


def predict(model, images, batch_size=1000):
    """uint8 images (N, 28, 28) -> class probabilities (N, 10)."""
    x = prepare_images(images, model.input_shape[1:])
    return model.predict(x, batch_size=batch_size, verbose=0)


def predict_normalized(model, digits, batch_size=1000):
    """Digits already in [0, 1], (N, 28, 28), such as normalize_digit makes -> (N, 10)."""
    x = to_model_input(digits, model.input_shape[1:])
    if len(x) <= 32:  # a direct call skips predict()'s set-up, which dominates for a few images
        return np.asarray(model(x, training=False))
    return model.predict(x, batch_size=batch_size, verbose=0)


def ensemble_probabilities(models, images, batch_size=1000):
    """The members' class probabilities, averaged: one model is an ensemble of one."""
    return average_probabilities([predict(m, images, batch_size) for m in models])


def average_probabilities(members):
    """An ensemble's class probabilities from its members' (each (N, 10)): their mean."""
    return np.mean(members, axis=0)


def images_per_second(model, images, batch_size=1000, repeats=3):
    """Batch inference speed after a warm-up pass: the best of `repeats` timed passes."""
    x = prepare_images(images, model.input_shape[1:])
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)  # build the graph first
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(x, batch_size=batch_size, verbose=0)
        best = min(best, time.perf_counter() - start)
    return len(x) / best


def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    """cm[i, j] = how many images of digit i were predicted as j."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def per_class_metrics(cm):
    """Precision, recall, F1 and support per class from a confusion matrix.

    A class never predicted has precision 0 (and never present, recall 0), as in
    scikit-learn's zero_division=0.
    """
    tp = np.diag(cm).astype(float)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual}


def cross_entropy(probabilities, y_true, eps=1e-7):
    """Mean categorical cross-entropy, clipped like Keras's."""
    p = np.clip(probabilities[np.arange(len(y_true)), y_true], eps, 1.0)
    return float(-np.mean(np.log(p)))


def score(probabilities, y_true):
    """All the numbers evaluate.py reports, as a JSON-ready dict."""
    y_true = np.asarray(y_true)
    y_pred = probabilities.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred)
    per_class = per_class_metrics(cm)
    return {
        "images": len(y_true),
        "loss": cross_entropy(probabilities, y_true),
        "accuracy": float(np.mean(y_pred == y_true)),
        "errors": int(np.sum(y_pred != y_true)),
        "per_digit": {
            str(d): {k: float(v[d]) if k != "support" else int(v[d]) for k, v in per_class.items()}
            for d in range(NUM_CLASSES)
        },
        "confusion_matrix": cm.tolist(),
    }
