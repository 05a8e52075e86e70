"""The networks, each a readable list of Keras layers, and the recipe that trains it.

mlp       the classic dense network: Dense + ReLU + Dropout layers, softmax output
cnn       a small, fast convolutional network
accurate  the most accurate single network here: a deeper CNN, trained on randomly
          rotated, zoomed and shifted digits (see augmentation())

Every model owns its input boundary: it takes the image as MNIST stores it, 28x28 pixel
values 0-255 (uint8 or float), and scales and reshapes it in its first layers, so that
keras.models.load_model(path).predict(images) is right with nothing else imported.
"""

from digits import DigitsError
from digits.backend import keras
from digits.data import NUM_CLASSES

L = keras.layers

# Default training recipe per model: plain values; epochs, batch size and learning rate
# can be overridden from train.py. Chosen on the validation hold-out only.
RECIPES = {
    # 10 epochs of batch 256 with label smoothing beat 12 of batch 128 without, in less time
    "mlp": {
        "epochs": 10,
        "batch_size": 256,
        "learning_rate": 2e-3,
        "warmup": 0.0,
        "label_smoothing": 0.1,
        "augment": False,
        "adam_betas": (0.9, 0.999),
    },
    # ONE epoch of batch 96: a fifth of the steps warm up to a high rate, the rest cool
    # down, with Adam's faster-forgetting moments (betas 0.7, 0.9), as in
    # tuomaso/train_mnist_fast (validation accuracy, seeds 0-2: 99.12, 98.96, 98.84%; batch
    # 128: 98.90%; two epochs of batch 256: 99.18% at twice the time)
    "cnn": {
        "epochs": 1,
        "batch_size": 96,
        "learning_rate": 1e-2,
        "warmup": 0.2,
        "label_smoothing": 0.0,
        "augment": False,
        "adam_betas": (0.7, 0.9),
    },
    # (validation accuracy, seed 0: 99.42% at epoch 12 of 15; the same net with 32 and 64
    # channels and slower batch-norm statistics, in half the time, 99.28%)
    "accurate": {
        "epochs": 15,
        "batch_size": 256,
        "learning_rate": 4e-3,
        "warmup": 0.1,
        "label_smoothing": 0.1,
        "augment": True,
        "adam_betas": (0.9, 0.999),
    },
}
MODEL_NAMES = tuple(RECIPES)


def raw_image(reshape):
    """The layers every model opens with: a raw 28x28 image, 0-255, scaled to [0, 1] and
    reshaped by `reshape` (flat for dense layers, with a channel axis for convolutions)."""
    return [keras.Input(shape=(28, 28)), L.Rescaling(1 / 255), reshape]


def mlp():
    return keras.Sequential(
        [
            *raw_image(L.Flatten()),
            L.Dropout(0.1),  # a little noise on the pixels themselves
            L.Dense(1024, activation="relu"),
            L.Dropout(0.3),
            L.Dense(1024, activation="relu"),
            L.Dropout(0.3),
            L.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mlp",
    )


def cnn():
    # Built for speed on a CPU, to learn MNIST in one pass: a 5x5 convolution sees a whole
    # stroke at once, a 3x3 one combines them, few channels keep each step cheap, batch
    # normalisation lets a high learning rate converge, and a dense layer of 256 does the
    # rest. Pooling comes straight after each convolution, so normalisation and ReLU work on
    # a quarter of the values (on a 2-core CPU that cut a third of every epoch's time).
    return keras.Sequential(
        [
            *raw_image(L.Reshape((28, 28, 1))),
            L.Conv2D(24, 5, padding="same", use_bias=False),
            L.MaxPooling2D(2),
            L.BatchNormalization(momentum=0.9),
            L.ReLU(),
            L.Conv2D(32, 3, padding="same", use_bias=False),
            L.MaxPooling2D(2),
            L.BatchNormalization(momentum=0.9),
            L.ReLU(),
            L.Flatten(),
            L.Dense(256, use_bias=False),
            L.BatchNormalization(momentum=0.9),
            L.ReLU(),
            L.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="cnn",
    )


def accurate():
    # Five 3x3/5x5 convolutions with batch normalisation, pooling first where there is
    # pooling (as in cnn), then a heavily dropped-out linear classifier. Trained on
    # augmented digits (RECIPES["accurate"]["augment"]).
    def conv(channels, size=3, pool=False):
        return [
            L.Conv2D(channels, size, padding="same", use_bias=False),
            *([L.MaxPooling2D(2)] if pool else []),
            L.BatchNormalization(momentum=0.9),
            L.ReLU(),
        ]

    return keras.Sequential(
        [
            *raw_image(L.Reshape((28, 28, 1))),
            *conv(32, 5, pool=True),
            *conv(48),
            *conv(48, pool=True),
            *conv(96),
            *conv(96, pool=True),
            L.Flatten(),
            L.Dropout(0.4),
            L.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="accurate",
    )


def augmentation():
    """Raw 28x28 images -> randomly rotated (up to 10.8 degrees), zoomed (10%) and shifted
    (up to 2.8 pixels) ones, in training only; black moves in from beyond the edges.

    Training wraps the model in these layers (digits.training.train); the saved model has
    none of them, so exporters and users see inference layers only.
    """
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            L.Reshape((28, 28, 1)),  # the random layers work on images with channels
            L.RandomRotation(0.03, fill_mode="constant"),
            L.RandomZoom(0.1, fill_mode="constant"),
            L.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            L.Reshape((28, 28)),
        ],
        name="augmentation",
    )


def build_model(name):
    """A fresh, uncompiled model by name ('mlp', 'cnn' or 'accurate')."""
    builders = {"mlp": mlp, "cnn": cnn, "accurate": accurate}
    if name not in builders:
        raise DigitsError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    return builders[name]()
