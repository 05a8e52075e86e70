"""Class probabilities for MNIST-style images (raw, 28x28, 0-255), several models as one
ensemble, and batch speed. A Keras model and an OnnxModel (the light path) answer alike.
"""

import time

import numpy as np


def as_pixels(images):
    """Images as an image file holds them: whole pixel values 0-255, uint8 (what MNIST is,
    and what the exported models take). Grey levels computed in floats are rounded."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def predict(model, images, batch_size=1000):
    """Raw images (N, 28, 28), pixel values 0-255 -> class probabilities (N, 10). Every model
    sees them as_pixels, the Keras model and its exported files alike."""
    images = as_pixels(images)
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
