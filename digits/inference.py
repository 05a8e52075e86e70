"""From images to answers: class probabilities for MNIST-style arrays, several models as
one ensemble, batch speed, and the answer for one picture of a digit.

answer() is the one path from a person's picture to what predict.py prints and the
drawing page shows: read, normalise the way MNIST was (digits.images), classify.
"""

import time

import numpy as np

from digits.images import normalize_digit


def predict(model, images, batch_size=1000):
    """Raw images (N, 28, 28), pixel values 0-255 -> class probabilities (N, 10)."""
    images = np.asarray(images)
    if len(images) <= 32:  # a direct call skips predict()'s set-up, which dominates for a few
        return np.asarray(model(images.astype("float32"), training=False))
    return model.predict(images, batch_size=batch_size, verbose=0)


def ensemble_probabilities(models, images, batch_size=1000):
    """The members' class probabilities, averaged: one model is an ensemble of one."""
    return average_probabilities([predict(m, images, batch_size) for m in models])


def average_probabilities(members):
    """An ensemble's class probabilities from its members' (each (N, 10)): their mean."""
    return np.mean(members, axis=0)


def images_per_second(model, images, batch_size=1000, repeats=3):
    """Batch inference speed after a warm-up pass: the best of `repeats` timed passes."""
    model.predict(images[:batch_size], batch_size=batch_size, verbose=0)  # build the graph first
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(images, batch_size=batch_size, verbose=0)
        best = min(best, time.perf_counter() - start)
    return len(images) / best


def answer(model, grey, name="image"):
    """A picture of one digit (2-D grey levels in [0, 1], from images.load_image) -> a dict:
    digit, confidence, probabilities (10), and input: the 28x28 digit the model saw, in
    [0, 1]. A picture with no digit to read raises DigitsError."""
    seen = normalize_digit(grey, name=name)
    probabilities = predict(model, 255 * seen[None])[0]
    return {
        "digit": int(probabilities.argmax()),
        "confidence": float(probabilities.max()),
        "probabilities": [float(p) for p in probabilities],
        "input": seen,
    }
