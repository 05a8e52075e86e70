"""Confidences that mean what they say: temperature scaling on the validation hold-out.

    python -m digits.cli.calibrate models/cnn.keras [...]   # calibrate saved models in place

A network's softmax is not a probability that can be taken at its word: trained with label
smoothing, the MLP and the accurate CNN say about 93% of a perfectly clear digit. Temperature
scaling (Guo et al., 2017) divides the last layer's logits by one number T, chosen to
minimise the cross-entropy on the validation images (never the test images): the predicted
digit never changes, only how sure the model says it is. The model keeps T in its own
layers (Dense without softmax -> Rescaling(1/T) -> Softmax), so a saved file, and every
export of it, gives calibrated probabilities by itself. train.py calibrates every model it
trains; the expected calibration error (ECE) before and after is in the model's record,
and evaluate.py reports it on the test images.
"""

import numpy as np

from digits import DigitsError
from digits.backend import keras
from digits.read.inference import predict
from digits.metrics import expected_calibration_error


def softmax(logits, temperature=1.0):
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits, y_true):
    """The T that minimises the mean cross-entropy of softmax(logits / T): a search over
    log T, coarse then fine (the loss is smooth and has one minimum in T)."""
    y_true = np.asarray(y_true)

    def loss(log_t):
        p = softmax(logits, np.exp(log_t))[np.arange(len(y_true)), y_true]
        return -np.mean(np.log(np.clip(p, 1e-12, 1.0)))

    grid = np.linspace(np.log(0.05), np.log(20.0), 121)
    for _ in range(3):
        best = grid[int(np.argmin([loss(t) for t in grid]))]
        step = grid[1] - grid[0]
        grid = np.linspace(best - step, best + step, 41)
    return float(np.exp(best))


def split_head(model):
    """The model's layers up to its logits, and its temperature (1 if it has none).

    A model here ends in Dense(10, softmax), or once calibrated in Dense(10) ->
    Rescaling(1/T) -> Softmax.
    """
    layers = list(model.layers)
    kinds = [type(layer).__name__ for layer in layers[-3:]]
    if kinds == ["Dense", "Rescaling", "Softmax"]:
        return layers[:-2], 1.0 / float(layers[-2].scale)
    if type(layers[-1]).__name__ == "Dense" and layers[-1].get_config()["activation"] == "softmax":
        return layers, 1.0
    raise DigitsError(f"{model.name}: its last layer is not a softmax over the digits")


def with_temperature(model, temperature):
    """A copy of `model` whose probabilities are softmax(logits / temperature), same weights.
    temperature 1 gives the plain softmax model back (Dense(10, softmax) at the end)."""
    body, _ = split_head(model)
    head = body[-1]
    layers = [keras.Input(shape=model.input_shape[1:])]
    layers += [layer.__class__.from_config(layer.get_config()) for layer in body[:-1]]
    if temperature == 1.0:
        layers.append(keras.layers.Dense.from_config({**head.get_config(), "activation": "softmax"}))
    else:
        layers.append(keras.layers.Dense.from_config({**head.get_config(), "activation": "linear"}))
        layers += [
            keras.layers.Rescaling(1.0 / temperature, name="temperature"),
            keras.layers.Softmax(name="probabilities"),
        ]
    copy = keras.Sequential(layers, name=model.name)
    copy.set_weights(model.get_weights())
    return copy


def logits(model, images):
    """The model's logits (before its softmax and temperature) for raw images."""
    return np.log(np.clip(predict(with_temperature(model, 1.0), images), 1e-30, 1.0)).astype(
        np.float64
    )


def calibrate(model, x_val, y_val):
    """`model` with its temperature fitted on (x_val, y_val), and what that did."""
    z = logits(model, x_val)
    temperature = fit_temperature(z, y_val)
    summary = {
        "temperature": temperature,
        "validation_ece_before": expected_calibration_error(softmax(z), y_val),
        "validation_ece_after": expected_calibration_error(softmax(z, temperature), y_val),
    }
    return with_temperature(model, temperature), summary
