"""A line of ink as the line reader sees it: a strip of 32 x 192 pixels in, one column of
class probabilities every STRIDE pixels out, and the symbols those spell.

The line reader (digits.make.layers.reader) reads a picture's ink (digits.read.images.
find_ink), cropped to it and scaled to 28 rows inside the strip (line_input). Each of its
FRAMES output columns gives the probabilities of CLASSES classes: blank, the ten digits,
"something else" (a letter, a symbol, a doodle), or one of the SEPARATORS people write in
numbers (3.14, 1,250, 555-0123, 12/05, 12:30). CTC training lets it read digits
that touch or overlap without a cut between them; decode() turns its frames into symbols.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

from digits.read.images import trimmed_extent

HEIGHT, WIDTH = 32, 192  # the line reader's input: a strip of ink, 0-255
ROWS = 28  # the ink's height inside the strip, as MNIST's digits fill 28 rows at most
STRIDE = 4  # input columns per output frame
FRAMES = WIDTH // STRIDE
# The classes of a frame: 0 blank, 1-10 the digits 0-9, 11 something else, 12-16 the
# separators.
BLANK, OTHER = 0, 11
DIGITS = slice(1, 11)
SEPARATORS = ".,-/:"
FIRST_SEPARATOR = OTHER + 1
CLASSES = FIRST_SEPARATOR + len(SEPARATORS)


def class_of(symbol):
    """The class that stands for a digit 0-9 (an int or its character) or a separator."""
    if isinstance(symbol, str) and symbol in SEPARATORS:
        return FIRST_SEPARATOR + SEPARATORS.index(symbol)
    return int(symbol) + 1


def text_of(cls):
    """The character a class stands for: a digit or a separator (None: something else)."""
    if DIGITS.start <= cls < DIGITS.stop:
        return str(cls - DIGITS.start)
    return SEPARATORS[cls - FIRST_SEPARATOR] if cls >= FIRST_SEPARATOR else None


@dataclass(frozen=True)
class Symbol:
    """One symbol of a decoded line: its class, the frames it spans, how sure the reader
    was at its likeliest frame."""

    cls: int
    first: int
    last: int
    confidence: float

    @property
    def is_digit(self):
        return DIGITS.start <= self.cls < DIGITS.stop

    @property
    def is_separator(self):
        return self.cls >= FIRST_SEPARATOR


@dataclass(frozen=True)
class Placement:
    """Where line_input took its strip from: ink column = strip column / scale_x + left."""

    top: int
    left: int
    scale_x: float
    scale_y: float

    def columns(self, first, last):
        """Strip columns [first, last) -> ink columns [a, b)."""
        return (
            int(self.left + max(first - 2, 0) / self.scale_x),
            int(np.ceil(self.left + max(last - 2, 0) / self.scale_x)),
        )


def line_input(ink, stray=0.002):
    """Ink (2-D, [0, 1]) -> (the reader's 32 x 192 strip, 0-255 float32, its Placement).

    The ink is cropped (leaving out the outermost `stray` of its mass each side), scaled
    so its height is 28 rows, and set 2 pixels from the strip's top-left corner; a line
    too long for the strip is squeezed across to fit.
    """
    top, bottom = trimmed_extent(ink.sum(axis=1), stray)
    left, right = trimmed_extent(ink.sum(axis=0), stray)
    crop = ink[top : bottom + 1, left : right + 1]
    height, width = crop.shape
    scale_y = ROWS / height
    new_width = max(1, min(WIDTH - 4, round(width * scale_y)))
    small = np.asarray(
        Image.fromarray(crop.astype(np.float32), mode="F").resize(
            (new_width, ROWS), Image.Resampling.BOX if height > ROWS else Image.Resampling.BILINEAR
        )
    )
    strip = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    strip[2 : 2 + ROWS, 2 : 2 + new_width] = np.clip(small / max(small.max(), 1e-6), 0, 1) * 255
    return strip, Placement(int(top), int(left), new_width / width, scale_y)


def decode(probabilities):
    """One line's (FRAMES, CLASSES) probabilities -> the best path's Symbols, blanks
    dropped, repeats joined."""
    best = probabilities.argmax(axis=1)
    out = []
    for frame, cls in enumerate(best):
        if cls == BLANK:
            continue
        sure = float(probabilities[frame, cls])
        if out and out[-1].cls == cls and out[-1].last == frame - 1:
            out[-1] = Symbol(int(cls), out[-1].first, frame, max(out[-1].confidence, sure))
        else:
            out.append(Symbol(int(cls), frame, frame, sure))
    return out


def digit_probabilities(frame):
    """A frame's probabilities of the ten digits, as a share of all ten (float64)."""
    digits = frame[DIGITS]
    return (digits / max(float(digits.sum()), 1e-9)).astype(np.float64)
