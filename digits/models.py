"""The networks, each a readable list of Keras layers, and the recipe that trains it.

mlp  the classic dense network: Dense + ReLU + Dropout layers, softmax output
cnn  a small convolutional network; its input is the 28x28x1 image
"""

from digits import DigitsError
from digits.backend import keras
from digits.data import NUM_CLASSES

# Default training recipe per model: plain values, each overridable from train.py.
RECIPES = {
    "mlp": {"epochs": 12, "batch_size": 128, "learning_rate": 1e-3},
    "cnn": {"epochs": 6, "batch_size": 128, "learning_rate": 2e-3},
}
MODEL_NAMES = tuple(RECIPES)


def mlp():
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mlp",
    )


def cnn():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, 3, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.4),
            keras.layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="cnn",
    )


def build_model(name):
    """A fresh, uncompiled model by name ('mlp' or 'cnn')."""
    builders = {"mlp": mlp, "cnn": cnn}
    if name not in builders:
        raise DigitsError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    return builders[name]()
