"""Saying "not a digit": a small network that tells a digit from anything else.

    python -m digits.cli.detector        # trains it and writes models/detector.keras

A classifier trained on digits only must call everything a digit: a handwritten U comes
back as a 4 at 91%. Its confidence alone cannot tell: a threshold that refuses at most 1%
of MNIST's validation digits refuses only about 60% of letters, scribbles and shapes. So
this second network looks at the same 28x28 input the classifier saw (a raw image, 0-255,
as every model here takes) and gives two probabilities: digit, not a digit.

It trains on MNIST's training digits (the validation hold-out left out; a third of them
with thicker strokes, a third drawn wider) and on digits typeset in 14 fonts and drawn as
pen strokes (digits.synthetic), against letters, words,
scribbles and shapes from digits.synthetic, each cut into pieces and normalised exactly
as digits.reading does with a picture. The threshold on its "not a digit" probability is
the lowest that refuses at most 1% of the validation digits and of a fresh set of
typeset and pen-drawn digits; the record holds it, and what it refuses.
"""

import numpy as np
from PIL import Image, ImageFilter

from digits import DigitsError
from digits.backend import keras
from digits.data import one_hot, split_validation
from digits.images import digit_from_ink, normalize_digit
from digits.inference import predict
from digits.models import raw_image
from digits.synthetic import LETTER_TEMPLATES, LETTERS, TEMPLATES, WORDS, pen_written, scribble, shape, typeset

NOT_A_DIGIT = 1  # the detector's second output
DIGIT_SOURCES = 3000  # typeset and pen-drawn digits, each
NONDIGIT_SOURCES = 6000  # letters, words, scribbles and shapes, in all


def build_detector():
    """A small CNN (the first fast CNN's layers), with two outputs: digit, not a digit."""
    L = keras.layers

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
            L.Dense(2, activation="softmax"),
        ],
        name="detector",
    )


def pieces_of(image):
    """A synthetic picture -> the 28x28 input digits.reading would classify, 0-255, as the
    list of one (none if it has no ink): the detector judges a line of one symbol whole."""
    grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    try:
        return [255 * normalize_digit(grey)]
    except DigitsError:
        return []


def synthetic_digits(rng, count):
    """Typeset and pen-drawn single digits, normalised: (count * 2, 28, 28)."""
    out = []
    for _ in range(count):
        label = int(rng.integers(10))
        for image in (typeset(str(label), rng), pen_written([label], TEMPLATES, rng)):
            grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
            out.append(255 * normalize_digit(grey))
    return np.stack(out)


def synthetic_nondigits(rng, count):
    """Letters, words, scribbles and shapes, cut into pieces and normalised."""
    kinds = ["star", "cross", "triangle", "square", "arrow", "hash", "spiral"]
    out = []
    for k in range(count):
        choice = k % 6
        if choice == 0:
            image = typeset(str(rng.choice(list(LETTERS))), rng)
        elif choice == 1:
            image = pen_written([rng.choice(list(LETTER_TEMPLATES))], LETTER_TEMPLATES, rng)
        elif choice == 2:
            word = rng.choice(WORDS) if k % 2 else "".join(rng.choice(list(LETTERS), int(rng.integers(2, 6))))
            image = typeset(str(word), rng)
        elif choice == 3:
            word = "".join(rng.choice(list(LETTER_TEMPLATES), int(rng.integers(2, 5))))
            image = pen_written(list(word), LETTER_TEMPLATES, rng)
        elif choice == 4:
            image = scribble(rng)
        else:
            image = shape(rng, kinds[int(rng.integers(len(kinds)))])
        out.extend(pieces_of(image))
    return np.stack(out)


def varied(digits, rng):
    """MNIST digits as other pens and hands make them: a third with thicker strokes, a third
    wider (renormalised as digits.images does), for the detector to accept as digits."""
    out = digits.astype(np.float32).copy()
    for i in range(len(out)):
        kind = i % 3
        if kind == 1:
            out[i] = np.asarray(Image.fromarray(out[i], mode="F").filter(ImageFilter.MaxFilter(3)))
        elif kind == 2:
            wide = Image.fromarray(out[i] / 255, mode="F").resize((int(28 * rng.uniform(1.2, 1.8)), 28))
            out[i] = 255 * digit_from_ink(np.asarray(wide))
    return out


def training_data(arrays, seed=0):
    """(x, y) for training, and the held-out digits the threshold is chosen on."""
    rng = np.random.default_rng(seed)
    (x_fit, _), (x_val, _) = split_validation(arrays["x_train"], arrays["y_train"])
    x_fit = varied(x_fit, rng)
    drawn = synthetic_digits(rng, DIGIT_SOURCES)
    others = synthetic_nondigits(rng, NONDIGIT_SOURCES)
    # a fifth of the synthetic pictures are held out, with MNIST's validation digits
    cut_d, cut_o = len(drawn) // 5, len(others) // 5
    x = np.concatenate([x_fit, drawn[cut_d:], others[cut_o:]]).astype(np.float32)
    y = np.concatenate([np.zeros(len(x_fit) + len(drawn) - cut_d), np.ones(len(others) - cut_o)])
    held_out = {
        "digits": np.concatenate([x_val, drawn[:cut_d]]).astype(np.float32),
        "nondigits": others[:cut_o].astype(np.float32),
    }
    return x, y.astype(np.int64), held_out


def choose_threshold(model, held_out, most_refused=0.01):
    """The lowest "not a digit" probability threshold that refuses at most `most_refused`
    of the held-out digits, and what it does to both held-out sets."""
    digit_scores = predict(model, held_out["digits"])[:, NOT_A_DIGIT]
    other_scores = predict(model, held_out["nondigits"])[:, NOT_A_DIGIT]
    threshold = float(np.quantile(digit_scores, 1 - most_refused))
    threshold = min(max(threshold, 0.5), 0.999)
    return {
        "threshold": threshold,
        "held_out_digits_refused": float(np.mean(digit_scores > threshold)),
        "held_out_nondigits_refused": float(np.mean(other_scores > threshold)),
        "held_out_digits": len(digit_scores),
        "held_out_nondigits": len(other_scores),
    }


def train_detector(arrays, seed=0, epochs=4, verbose=2):
    x, y, held_out = training_data(arrays, seed)
    keras.utils.set_random_seed(seed)
    model = build_detector()
    steps = epochs * int(np.ceil(len(x) / 256))
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, steps)),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    order = np.random.default_rng(seed).permutation(len(x))
    model.fit(x[order], one_hot(y[order])[:, :2], batch_size=256, epochs=epochs, verbose=verbose)
    return model, {
        "training_images": int(len(x)),
        "training_nondigits": int(y.sum()),
        "epochs": epochs,
        "seed": seed,
        **choose_threshold(model, held_out),
    }
