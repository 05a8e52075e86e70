"""The data the not-a-digit detector learns from, and the threshold it refuses at.

    python train.py --model detector     # writes models/detector.keras

A classifier trained on digits only must call everything a digit: a handwritten U comes
back as a 4 at 91%. Its confidence alone cannot tell: a threshold that refuses at most 1%
of MNIST's validation digits refuses only about 60% of letters, scribbles and shapes. So
a second network (digits.make.layers.detector) looks at the same 28x28 input the
classifier saw and gives two probabilities: digit, not a digit. On the development sets
(tests/make_reading_images.py --dev, tests/make_digit_images.py --dev) the reader with it
refuses 97.6% of the non-digits, without it 94.5% (scribbles 93% against 80%), and reads
the same numbers (94.2%) and single digits (97.6%).

It trains on MNIST's training digits (the validation hold-out left out; a third of them
with thicker strokes, a third drawn wider) and on digits typeset and drawn as pen strokes
(digits.make.synthetic), against letters, words, scribbles and shapes, each normalised
exactly as digits.read.reading does with a picture. Its validation set is MNIST's hold-out
and a fifth of the synthetic pictures. The threshold on its "not a digit" probability is
the lowest that refuses at most 1% of those validation digits; the record holds it, and
what it refuses.
"""

import contextlib

import numpy as np
from PIL import Image, ImageFilter

from digits.make.data import split_validation
from digits.make.synthetic import (
    LETTER_TEMPLATES,
    LETTERS,
    SHAPES,
    TEMPLATES,
    WORDS,
    pen_written,
    scribble,
    shape,
    typeset,
)
from digits.read.images import NoInk, digit_from_ink, normalize_digit
from digits.read.inference import predict
from digits.read.reading import Detector

DIGIT_SOURCES = 3000  # typeset and pen-drawn digits, each
NONDIGIT_SOURCES = 6000  # letters, words, scribbles and shapes, in all


def as_inputs(images):
    """Synthetic pictures -> the 28x28 inputs digits.read.reading would classify, 0-255 (a
    picture without ink is left out): the detector judges a picture of one symbol whole."""
    out = []
    for image in images:
        with contextlib.suppress(NoInk):
            out.append(255 * normalize_digit(np.asarray(image.convert("L"), dtype=np.float32) / 255.0))
    return np.stack(out)


def synthetic_digits(rng, count):
    """Typeset and pen-drawn single digits, normalised: (count * 2, 28, 28)."""

    def drawn():
        for _ in range(count):
            label = int(rng.integers(10))
            yield typeset(str(label), rng)
            yield pen_written([label], TEMPLATES, rng)

    return as_inputs(drawn())


def synthetic_nondigits(rng, count):
    """Letters, words, scribbles and shapes, normalised."""

    def drawn(k):
        choice = k % 6
        if choice == 0:
            return typeset(str(rng.choice(list(LETTERS))), rng)
        if choice == 1:
            return pen_written([rng.choice(list(LETTER_TEMPLATES))], LETTER_TEMPLATES, rng)
        if choice == 2:
            word = rng.choice(WORDS) if k % 2 else "".join(rng.choice(list(LETTERS), int(rng.integers(2, 6))))
            return typeset(str(word), rng)
        if choice == 3:
            word = "".join(rng.choice(list(LETTER_TEMPLATES), int(rng.integers(2, 5))))
            return pen_written(list(word), LETTER_TEMPLATES, rng)
        if choice == 4:
            return scribble(rng)
        return shape(rng, SHAPES[int(rng.integers(len(SHAPES)))])

    return as_inputs(drawn(k) for k in range(count))


def varied(digits, rng):
    """MNIST digits as other pens and hands make them: a third with thicker strokes, a third
    wider (renormalised as digits.read.images does), for the detector to accept as digits."""
    out = digits.astype(np.float32).copy()
    for i in range(len(out)):
        kind = i % 3
        if kind == 1:
            out[i] = np.asarray(Image.fromarray(out[i], mode="F").filter(ImageFilter.MaxFilter(3)))
        elif kind == 2:
            wide = Image.fromarray(out[i] / 255, mode="F").resize((int(28 * rng.uniform(1.2, 1.8)), 28))
            out[i] = 255 * digit_from_ink(np.asarray(wide))
    return out


def training_sets(arrays, validation_size, limit=None, seed=0):
    """((x, y), (x_val, y_val)): y is 1 for "not a digit". MNIST's training digits (the
    first `limit`) less the validation hold-out, varied, and the synthetic pictures, of
    which a fifth are held out with MNIST's validation digits. A `limit` draws a share of
    the synthetic pictures as large as its share of MNIST's training images."""
    rng = np.random.default_rng(seed)
    x, labels = arrays["x_train"][:limit], arrays["y_train"][:limit]
    (x_fit, _), (x_val, _) = split_validation(x, labels, validation_size)
    share = 1.0 if limit is None else min(1.0, limit / len(arrays["x_train"]))
    x_fit = varied(x_fit, rng)
    drawn = synthetic_digits(rng, max(10, int(DIGIT_SOURCES * share)))
    others = synthetic_nondigits(rng, max(20, int(NONDIGIT_SOURCES * share)))
    cut_d, cut_o = len(drawn) // 5, len(others) // 5
    x = np.concatenate([x_fit, drawn[cut_d:], others[cut_o:]]).astype(np.float32)
    y = np.concatenate([np.zeros(len(x_fit) + len(drawn) - cut_d), np.ones(len(others) - cut_o)])
    x_held = np.concatenate([x_val, drawn[:cut_d], others[:cut_o]]).astype(np.float32)
    y_held = np.concatenate([np.zeros(len(x_val) + cut_d), np.ones(cut_o)])
    return (x, y.astype(np.int64)), (x_held, y_held.astype(np.int64))


def choose_threshold(model, val, most_refused=0.01):
    """The lowest "not a digit" probability threshold that refuses at most `most_refused`
    of the validation digits, and what it does to them and to the validation non-digits."""
    x, y = val
    scores = predict(model, x)[:, Detector.NOT_A_DIGIT]
    digit_scores, other_scores = scores[y == 0], scores[y == 1]
    threshold = float(np.quantile(digit_scores, 1 - most_refused))
    threshold = min(max(threshold, 0.5), 0.999)
    return {
        "threshold": threshold,
        "held_out_digits_refused": float(np.mean(digit_scores > threshold)),
        "held_out_nondigits_refused": float(np.mean(other_scores > threshold)),
        "held_out_digits": len(digit_scores),
        "held_out_nondigits": len(other_scores),
    }
