"""Scoring predictions: accuracy, loss, per-digit precision/recall/F1, confusion matrix,
and how well the confidences are calibrated.

Plain numpy over label and probability arrays, so tests can check each against
hand-computed values.
"""

import numpy as np

from digits import NUM_CLASSES


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


def expected_calibration_error(probabilities, y_true, bins=15):
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence
    bins weighted by how many predictions fall in each (0 is perfectly calibrated)."""
    probabilities, y_true = np.asarray(probabilities), np.asarray(y_true)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            gap += chosen.mean() * abs(correct[chosen].mean() - confidence[chosen].mean())
    return float(gap)


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
        "expected_calibration_error": expected_calibration_error(probabilities, y_true),
        "per_digit": {
            str(d): {k: float(v[d]) if k != "support" else int(v[d]) for k, v in per_class.items()}
            for d in range(NUM_CLASSES)
        },
        "confusion_matrix": cm.tolist(),
    }
