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
    },
    # three epochs: a quarter of the steps warm up to a high rate, the rest cool down
    # (validation accuracy, seed 0: two epochs 98.74%, three 98.96%; the previous CNN,
    # normalising before pooling, 98.76% in three epochs at 1.5x the time)
    "cnn": {
        "epochs": 3,
        "batch_size": 256,
        "learning_rate": 5e-3,
        "warmup": 0.25,
        "label_smoothing": 0.0,
        "augment": False,
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


def cnn(classes=NUM_CLASSES, name="cnn"):
    # Built for speed on a CPU: 5x5 kernels see a whole stroke at once, few channels keep
    # each step cheap, and batch normalisation (with fast-moving statistics, for a run of
    # only a few hundred steps) lets a high learning rate converge in three epochs.
    # Pooling comes straight after each convolution, so normalisation and ReLU work on a
    # quarter of the values: on a 2-core CPU that cut a third of every epoch's time.
    def conv_block(channels):
        return [
            L.Conv2D(channels, 5, padding="same", use_bias=False),
            L.MaxPooling2D(2),
            L.BatchNormalization(momentum=0.9),
            L.ReLU(),
        ]

    return keras.Sequential(
        [
            *raw_image(L.Reshape((28, 28, 1))),
            *conv_block(16),
            *conv_block(32),
            L.Flatten(),
            L.Dropout(0.3),
            L.Dense(classes, activation="softmax"),
        ],
        name=name,
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
