"""The networks' layers: each builder returns a fresh, uncompiled keras.Sequential, and
build(network) calls the one its description names (digits.make.networks).

Every network owns its input boundary: it takes the image as a user has it, pixel values
0-255 (uint8 or float), and scales and reshapes it in its first layers, so that
keras.models.load_model(path).predict(images) is right with nothing else imported. Softmax
outputs compute in float32 even while training runs in mixed precision: bfloat16's three
significant digits are too coarse for probabilities.
"""

import math

import numpy as np

from digits import NUM_CLASSES
from digits.backend import keras
from digits.read.shapes import INPUT_SHAPE
from digits.read.strip import BLANK, CLASSES, FRAMES, HEIGHT, WIDTH

L = keras.layers

# The dense network's dropout after each hidden layer: of 0, 0.05, 0.1 and 0.2, the rate
# with the best validation accuracy.
MLP_DROPOUT = 0.1


def build(network):
    """A fresh, uncompiled model for a Network description."""
    return globals()[network.layers](name=network.name, **network.options)


def raw_image(reshape, shape=INPUT_SHAPE):
    """The layers every model opens with: a raw image, 0-255, scaled to [0, 1] and
    reshaped by `reshape` (flat for dense layers, with a channel axis for convolutions)."""
    return [keras.Input(shape=shape), L.Rescaling(1 / 255), reshape]


def conv(channels, size=3, pool=None, pool_last=False):
    """A convolution without bias, batch normalisation and ReLU, with max pooling by `pool`
    straight after the convolution (normalisation and ReLU then work on a quarter of the
    values), or after the ReLU with `pool_last`."""
    pooling = [L.MaxPooling2D(pool)] if pool else []
    return [
        L.Conv2D(channels, size, padding="same", use_bias=False),
        *([] if pool_last else pooling),
        L.BatchNormalization(momentum=0.9),
        L.ReLU(),
        *(pooling if pool_last else []),
    ]


def mlp(name="mlp"):
    # The classic: two wide ReLU layers, each followed by dropout.
    return keras.Sequential(
        [
            *raw_image(L.Flatten()),
            L.Dense(800, activation="relu"),
            L.Dropout(MLP_DROPOUT),
            L.Dense(800, activation="relu"),
            L.Dropout(MLP_DROPOUT),
            L.Dense(NUM_CLASSES, activation="softmax", dtype="float32"),
        ],
        name=name,
    )


def cnn(channels=(16, 16), name="cnn"):
    # Built for speed on a CPU, to learn MNIST in one pass: a 5x5 convolution sees a whole
    # stroke at once, a 3x3 one combines them, batch normalisation lets a high learning rate
    # converge, and a dense layer of 256 does the rest. 16 channels each keep a step cheap:
    # round two's 24 and 32 took about twice as long per epoch on an AVX-512 CPU (python -m
    # benchmarks.epoch --model cnn) for no better validation accuracy.
    first, second = channels
    return keras.Sequential(
        [
            *raw_image(L.Reshape((28, 28, 1))),
            *conv(first, 5, pool=2),
            *conv(second, 3, pool=2),
            L.Flatten(),
            L.Dense(256, use_bias=False),
            L.BatchNormalization(momentum=0.9),
            L.ReLU(),
            L.Dense(NUM_CLASSES, activation="softmax", dtype="float32"),
        ],
        name=name,
    )


def accurate(first_kernel=5, name="accurate"):
    # Five convolutions with batch normalisation, a `first_kernel` square one (5x5 sees a
    # stroke at once), then 3x3 ones; pooling first where there is pooling (as in cnn), then
    # a heavily dropped-out linear classifier.
    return keras.Sequential(
        [
            *raw_image(L.Reshape((28, 28, 1))),
            *conv(32, first_kernel, pool=2),
            *conv(48),
            *conv(48, pool=2),
            *conv(96),
            *conv(96, pool=2),
            L.Flatten(),
            L.Dropout(0.4),
            L.Dense(NUM_CLASSES, activation="softmax", dtype="float32"),
        ],
        name=name,
    )


def reader(name="reader"):
    # Four convolutions take the 32-row strip down to one row of 48 frames (a frame every
    # 4 columns, several to a digit), pooling across only while a digit is several frames
    # wide; then two wide 1-D convolutions let each frame see its neighbours (about 90
    # pixels of the line: a digit and a half each side) before it says what it shows.
    return keras.Sequential(
        [
            *raw_image(L.Reshape((HEIGHT, WIDTH, 1)), (HEIGHT, WIDTH)),
            *conv(16, pool=(2, 2), pool_last=True),  # 16 x 96
            *conv(32, pool=(2, 2), pool_last=True),  # 8 x 48
            *conv(64, pool=(2, 1), pool_last=True),  # 4 x 48
            *conv(96, pool=(4, 1), pool_last=True),  # 1 x 48
            L.Reshape((FRAMES, 96)),
            L.Conv1D(128, 5, padding="same", activation="relu"),
            L.Dropout(0.2),
            L.Conv1D(128, 5, padding="same", activation="relu"),
            L.Dense(CLASSES, activation="softmax", dtype="float32"),
        ],
        name=name,
    )


def detector(name="detector"):
    # Two outputs, digit and not a digit: a small CNN, as fast as the first one.
    return keras.Sequential(
        [
            *raw_image(L.Reshape((28, 28, 1))),
            *conv(16, 5, pool=2),
            *conv(32, 5, pool=2),
            L.Flatten(),
            L.Dropout(0.3),
            L.Dense(2, activation="softmax"),
        ],
        name=name,
    )


class CTCLoss(keras.losses.Loss):
    """CTC's loss for the reader: y_true is (N, 1 + MAX_LABEL), each line's label length
    then its classes; y_pred the (N, FRAMES, CLASSES) probabilities."""

    def __init__(self, name="ctc", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        ops = keras.ops
        y_true = ops.cast(y_true, "int32")
        frames = ops.full((ops.shape(y_pred)[0],), FRAMES, dtype="int32")
        log_p = ops.log(ops.clip(y_pred, 1e-7, 1.0))
        return keras.ops.ctc_loss(y_true[:, 1:], log_p, y_true[:, 0], frames, mask_index=BLANK)


class RandomAffine(L.Layer):
    """In training, each image rotated (up to `degrees` either way), zoomed (by up to a
    factor `zoom` either way) and shifted (up to `pixels` along each axis) at random, all in
    one bilinear resampling; black moves in from beyond the edges. Elsewhere, the identity.

    Keras's RandomRotation, RandomZoom and RandomTranslation make the same moves in three
    resamplings, each blurring the digit a little more; this makes one. Takes and returns
    images without a channel axis, (n, 28, 28).
    """

    def __init__(self, degrees, zoom, pixels, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.degrees, self.zoom, self.pixels = degrees, zoom, pixels
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        if not training:
            return images
        ops = keras.ops
        n, height, width = ops.shape(images)

        def uniform(limit):
            return keras.random.uniform((n,), -limit, limit, seed=self.generator)

        angle = uniform(self.degrees * math.pi / 180)
        scale = 1 + uniform(self.zoom)
        dx, dy = uniform(self.pixels), uniform(self.pixels)
        # Each output pixel p reads the input at M (p - centre - shift) + centre, where M
        # rotates by `angle` and shrinks by `scale` (M undoes the move that makes the output).
        cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
        cx, cy = (width - 1) / 2, (height - 1) / 2
        x0, y0 = cx + dx, cy + dy
        zero = ops.zeros_like(cos)
        transform = ops.stack(
            [cos, -sin, cx - cos * x0 + sin * y0, sin, cos, cy - sin * x0 - cos * y0, zero, zero],
            axis=1,
        )
        moved = ops.image.affine_transform(
            images[..., None], transform, interpolation="bilinear", fill_mode="constant"
        )
        return moved[..., 0]

    def get_config(self):
        return {
            **super().get_config(),
            "degrees": self.degrees,
            "zoom": self.zoom,
            "pixels": self.pixels,
        }


def augmentation(soft_scans=0.0):
    """Raw 28x28 images -> randomly rotated (up to 10.8 degrees), zoomed (10%) and shifted
    (up to 2.8 pixels) ones, in training only (RandomAffine); with `soft_scans`, that share
    of them then scanned small and soft (SoftScan).

    Training wraps the model in this (digits.make.training.train); the saved model does not
    contain it, so exporters and users see inference layers only.
    """
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            # float32 even in mixed-precision training: the resampling needs no speed-up
            RandomAffine(10.8, 0.1, 2.8, dtype="float32"),
            *([SoftScan(soft_scans, dtype="float32")] if soft_scans else []),
        ],
        name="augmentation",
    )


class SoftScan(L.Layer):
    """In training, a `share` of the images scanned small and soft, as old form scanners
    did: each reduced to a square of 8 to 16 pixels (`sides`, one at random per image), each
    pixel the average of the area it covers, and enlarged back bilinearly; then brightened
    so that its inkiest pixel is as dark as the original's. Elsewhere, the identity. Takes
    and returns (n, side, side) images.

    MNIST's digits are sharp 20x20 drawings; a digit that was ever 8 to 16 pixels tall is a
    blur of grey that the network must still read. (The reader's soft scans, in
    digits.make.lines, and the test split's, in tests/make_digit_images.py, are made with
    Pillow, with other resamplings, blur and noise.)
    """

    def __init__(self, share, sides=(8, 16), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.share, self.sides = share, tuple(sides)
        self.generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        # Both resizings are linear along each axis, so one matrix R per side does them:
        # the scan of X is R X R^T, a few small matrix products where resizing a batch nine
        # ways costs 25 times as much.
        size = input_shape[-1]
        self.scans = np.stack([scan_matrix(size, side) for side in range(self.sides[0], self.sides[1] + 1)])

    def call(self, images, training=False):
        if not training:
            return images
        ops = keras.ops
        n = ops.shape(images)[0]
        side = keras.random.randint((n,), 0, len(self.scans), seed=self.generator)
        resize = ops.take(ops.convert_to_tensor(self.scans, images.dtype), side, axis=0)
        soft = ops.einsum("nij,njk,nlk->nil", resize, images, resize)
        peak, soft_peak = (ops.max(x, axis=(1, 2), keepdims=True) for x in (images, soft))
        soft = soft * peak / ops.maximum(soft_peak, 1e-6)
        chosen = keras.random.uniform((n, 1, 1), seed=self.generator) < self.share
        return ops.where(chosen, soft, images)

    def get_config(self):
        return {**super().get_config(), "share": self.share, "sides": self.sides}


def scan_matrix(size, side):
    """The (size, size) matrix that reduces a row of `size` pixels to `side` (each the
    average of the pixels it covers) and enlarges it back with linear interpolation between
    pixel centres."""
    edges = np.linspace(0, size, side + 1)
    reduce = np.zeros((side, size))
    for i in range(side):
        for j in range(size):
            reduce[i, j] = max(0.0, min(edges[i + 1], j + 1) - max(edges[i], j)) * side / size
    centres = np.clip((np.arange(size) + 0.5) * side / size - 0.5, 0, side - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, side - 1)
    enlarge = np.zeros((size, side))
    enlarge[np.arange(size), low] += 1 - (centres - low)
    enlarge[np.arange(size), high] += centres - low
    return (enlarge @ reduce).astype(np.float32)
