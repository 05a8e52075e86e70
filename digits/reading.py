"""Reading a picture as a person would: every digit in it, left to right, or "not a digit".

Reader.read(grey) is the one path from a person's picture to what predict.py prints and
the drawing page shows:

1. find the ink (digits.images.locate_ink: paper, polarity, light, noise, ruled lines);
2. the line reader (digits.models.reader, trained on lines made by digits.lines) reads
   the whole line of ink at once: blank, a digit or "something else" every 4 columns of
   its 32-row strip, so digits that touch, overlap or stand on a line need no cutting.
   It reads the strip three times, as it is and moved a row up and a row down, and its
   probabilities are averaged (read_line);
3. a line of one digit is then read as a single digit always was: its ink normalised as
   MNIST's digits were (digits.images.digit_from_ink) and classified by the digit model,
   whose probabilities are calibrated (digits.calibration); narrow ink (a 1) is read by
   both networks (NARROW); the not-a-digit detector (digits.detector) and
   `min_confidence` may refuse it;
4. a line of several is the number the line reader read, each digit's box the ink
   between its neighbours' midpoints. Anything in it that the line reader calls
   "something else" (a letter, a symbol, a doodle), or a digit it is less sure of than
   `min_confidence`, makes the whole picture "not a digit".
"""

from dataclasses import dataclass, field

import numpy as np

from digits import DEFAULT_DETECTOR, DEFAULT_MODEL, DEFAULT_READER, DigitsError
from digits.cli import probability
from digits.images import crop_to_ink, digit_from_ink, locate_ink
from digits.inference import predict
from digits.lines import CLASSES, FRAMES, HEIGHT, OTHER, STRIDE, WIDTH, decode, line_input
from digits.store import BACKENDS, open_model, read_record

# The least confidence a digit needs. This and SOMETHING_ELSE_LEVEL were chosen together
# with `python -m benchmarks.reading --choose DIR` on the development set
# (`python tests/make_reading_images.py --dev DIR`: the validation hold-out's handwriting,
# the development font families), never on the test images: 0.3 and 0.7 read 93.3% of its
# numbers and refused 98.2% of its non-digits (0.5: 92.9%, 0.7: 88.3% of the numbers; a
# level of 0.9: 97.0%, 0.99: 94.5% of the non-digits).
MIN_CONFIDENCE = 0.3
# A digit the (calibrated) digit model is this sure of stands even when the detector or the
# line reader doubts it, written alone or apart from its neighbours (kept from the reader
# before, where on its development set it cut the numbers wrongly refused from 3.3% to
# 1.3%; here, on the development set, it lifted the numbers read from 93.3% to 93.8% at the
# same 98.2% of non-digits refused).
CERTAIN = 0.999
# The line reader's "something else" stands only where it is at least this probable at its
# frame; below, the frame's likeliest digit is read instead (see MIN_CONFIDENCE).
SOMETHING_ELSE_LEVEL = 0.7
SOMETHING_ELSE = "not a digit: it reads as a letter, a symbol or a drawing"
# The rows the line reader's strip is moved by, each read and the probabilities averaged
# (read_line). Chosen on development sets only: `python tests/make_reading_images.py --dev
# DIR --per-family 100` (800 numbers, 550 non-digits): 92.5% of the numbers read exactly
# where one reading read 91.8%, 96.5% of the non-digits refused where it refused 96.7%; on
# the smaller `--dev DIR`, 94.2% and 97.6% against 93.8% and 98.2%. Moving by two rows as
# well (five readings) read 91.9% of the bigger set's numbers. MIN_CONFIDENCE and
# SOMETHING_ELSE_LEVEL stay: at 0.5 or 0.6 for the level the bigger set read 91.1% and
# 91.9% of its numbers, at 0.8, 92.9% and refused 96.4% of its non-digits.
SHIFTS = (0, 1, -1)
# A single digit whose ink is narrower than this fraction of its height (a 1, mostly) is
# read by both readers, the mean of their probabilities (combine), not by the digit model
# alone: MNIST's writers seldom gave a 1 a long flag, so the digit model reads such a 1 as
# a 7, where the line reader, which has seen printed ones, reads it right. Chosen on
# development data only: of the 2,330 single digits of `python tests/make_digit_images.py
# --dev DIR --seed S` for S = 8 and 20 to 23, 87 were read wrong by the digit model alone,
# 86 at 0.3, 67 at 0.4, 63 at 0.5; of the first 3,000 digits of MNIST's validation hold-out,
# read as pictures, 65 were read wrong at 0, 0.3 and 0.4, 67 at 0.5. The development
# numbers and non-digits read the same at every value.
NARROW = 0.4


@dataclass
class Digit:
    """One digit of a reading: None where it is not a digit (`reason` says why)."""

    digit: int | None
    confidence: float
    probabilities: list
    box: dict  # left, top, width, height in the picture's own pixels
    input: np.ndarray  # the 28x28 digit as the digit model takes it, 0-1
    reason: str | None = None

    def to_json(self):
        out = {
            "digit": self.digit,
            "confidence": self.confidence,
            "probabilities": [round(float(p), 6) for p in self.probabilities],
            "box": self.box,
            "input": np.round(self.input, 3).tolist(),
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class Reading:
    """What a picture says: `number` is its digits left to right (leading zeros kept), or
    None when it is not a number (`reason`, or a digit's, says why)."""

    number: str | None
    digits: list = field(default_factory=list)
    reason: str | None = None

    def to_json(self):
        """A JSON-ready dict; for a picture of one digit, that digit's digit, confidence,
        probabilities and input at the top level too."""
        digits = [d.to_json() for d in self.digits]
        out = {"number": self.number, "digits": digits}
        reason = self.reason or next((d.reason for d in self.digits if d.reason), None)
        if reason:
            out["reason"] = reason
        if len(digits) == 1:
            out.update({k: digits[0][k] for k in ("digit", "confidence", "probabilities", "input")})
        return out


class Reader:
    """Reads pictures: `model` classifies single digits; `lines` is the line reader;
    `detector` is (model, threshold) from open_detector, or None."""

    def __init__(self, model, lines, detector=None, min_confidence=MIN_CONFIDENCE,
                 something_else_level=SOMETHING_ELSE_LEVEL):
        self.model, self.lines, self.detector = model, lines, detector
        self.min_confidence, self.something_else_level = min_confidence, something_else_level

    def read(self, grey, name="image", scale=1.0):
        """A picture (2-D grey levels in [0, 1], from images.load_image) -> a Reading.

        `scale` is the original picture's size over `grey`'s (load_image reduces large
        pictures), so that boxes are in the original's pixels. A picture that cannot be
        read at all raises DigitsError.
        """
        try:
            ink, (top, left) = locate_ink(grey, name)
        except DigitsError as err:
            if "no ink" not in str(err):
                raise
            return Reading(None, [], "no ink: the picture is blank")
        strip, placement = line_input(ink)
        frames = read_line(self.lines, strip)
        symbols = [self._doubt(frames, symbol) for symbol in decode(frames)]
        if not symbols:
            return Reading(None, [], "not a digit: nothing in it reads as a digit")
        apart = _apart(ink, len(symbols))
        spans = apart or _spans(symbols, placement, ink.shape[1])
        boxes = [_box(ink, a, b, top, left, scale) for a, b in spans]
        if len(symbols) == 1:
            cls = symbols[0][0]
            return Reading(*self._single(ink, boxes[0], None if cls == OTHER else _in_line(frames, symbols[0])))
        seen = np.stack([_crop(ink, a, b) for a, b in spans])
        by_model = predict(self.model, 255 * seen)  # each digit alone, as a single one is
        digits = []
        for (cls, first, last, sure), alone, image, box in zip(symbols, by_model, seen, boxes):
            in_line = _in_line(frames, (cls, first, last, sure))
            if cls == OTHER and not (apart and alone.max() >= CERTAIN):
                digits.append(Digit(None, sure, list(in_line), box, image, SOMETHING_ELSE))
                continue
            # something else, written apart, that the digit model is all but certain of is
            # a digit, as it would be alone
            p = alone if cls == OTHER else combine(in_line, alone) if apart else in_line
            sure, reason = float(p.max()), None
            if sure < self.min_confidence:
                reason = (
                    f"not a digit: the readers are {100 * sure:.0f}% sure at most "
                    f"(they need {100 * self.min_confidence:.0f}%)"
                )
            digits.append(Digit(None if reason else int(p.argmax()), sure, [float(v) for v in p], box, image, reason))
        number = None if any(d.digit is None for d in digits) else "".join(str(d.digit) for d in digits)
        return Reading(number, digits)

    def _doubt(self, frames, symbol):
        """A "something else" less probable than the level -> the likeliest digit at its
        frame, as sure as its share of the ten digits' probability there."""
        cls, first, last, sure = symbol
        if cls != OTHER or sure >= self.something_else_level:
            return symbol
        frame = frames[first + int(np.argmax(frames[first : last + 1, OTHER]))]
        digit = 1 + int(np.argmax(frame[1:11]))
        return digit, first, last, float(frame[digit] / max(1e-9, float(frame[1:11].sum())))

    def _single(self, ink, box, in_line):
        """A line of one symbol: read as a single digit always was (see the docstring).
        `in_line`: the line reader's probabilities of the ten digits for it, or None where
        it read "something else"."""
        seen = digit_from_ink(ink)
        p = predict(self.model, 255 * seen[None])[0]
        something_else = in_line is None
        if not something_else and _narrow(ink):
            p = combine(in_line, p)
        sure = float(p.max())
        reason = None
        other = 0.0 if self.detector is None else float(predict(self.detector[0], 255 * seen[None])[0, 1])
        if something_else and sure < CERTAIN:
            reason = SOMETHING_ELSE
        elif self.detector is not None and other > self.detector[1] and sure < CERTAIN:
            reason = f"not a digit: it looks like something else ({100 * other:.0f}%)"
        elif sure < self.min_confidence:
            reason = (
                f"not a digit: the model is {100 * sure:.0f}% sure at most "
                f"(it needs {100 * self.min_confidence:.0f}%)"
            )
        digit = Digit(None if reason else int(p.argmax()), sure, [float(v) for v in p], box, seen, reason)
        return (None if reason else str(digit.digit)), [digit]


def read_line(lines, strip):
    """The line reader's (FRAMES, CLASSES) probabilities for one strip: the mean of its
    readings of the strip moved by SHIFTS rows (line_input leaves two blank rows above
    and below the ink, so no ink wraps round)."""
    return predict(lines, np.stack([np.roll(strip, shift, axis=0) for shift in SHIFTS])).mean(axis=0)


def combine(in_line, alone):
    """One digit's probabilities from the line reader (in its line) and the digit model (its
    ink alone): their mean."""
    return (in_line + alone) / 2


def _narrow(ink):
    """Whether the ink is narrower than NARROW times its height (a 1, as a rule)."""
    ink = crop_to_ink(ink)
    return ink.shape[1] < NARROW * ink.shape[0]


def _in_line(frames, symbol):
    """The line reader's probabilities of the ten digits for a symbol, at its likeliest frame."""
    cls, first, last, _ = symbol
    return np.array(_digit_probabilities(frames[first + int(np.argmax(frames[first : last + 1, cls]))]))


def _crop(ink, a, b):
    """The 28x28 digit the ink in columns [a, b) makes (blank if there is none)."""
    piece = np.zeros_like(ink)
    piece[:, a:b] = ink[:, a:b]
    return digit_from_ink(piece) if piece.any() else np.zeros((28, 28), np.float32)


def _digit_probabilities(frame):
    """A frame's probabilities of the ten digits, as a share of all ten."""
    digits = frame[1:11]
    return [float(v) for v in digits / max(float(digits.sum()), 1e-9)]


def _apart(ink, count):
    """The ink's columns split where no ink is, as [a, b) spans, if that makes `count`
    pieces (digits written apart); else None. Pieces of under 1% of the ink are specks."""
    inked = ink.max(axis=0) > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], inked.astype(np.int8), [0]])))
    runs = list(zip(edges[::2], edges[1::2]))
    mass = ink.sum()
    runs = [(a, b) for a, b in runs if ink[:, a:b].sum() >= 0.01 * mass]
    return runs if len(runs) == count else None


def _spans(symbols, placement, width):
    """Each symbol's ink columns [a, b): from the midpoint with the one before to the
    midpoint with the one after (the line's ends for the first and last)."""
    centres = [(first + last + 1) / 2 * STRIDE for _, first, last, _ in symbols]
    cuts = [0.0, *[(x + y) / 2 for x, y in zip(centres, centres[1:])], float("inf")]
    out = []
    for a, b in zip(cuts, cuts[1:]):
        start, stop = placement.columns(a, b) if np.isfinite(b) else (placement.columns(a, a)[0], width)
        out.append((max(0, start if a > 0 else 0), min(width, max(stop, start + 1))))
    return out


def _box(ink, a, b, top, left, scale):
    """The box of the ink in columns [a, b), in the original picture's pixels."""
    rows = np.flatnonzero(ink[:, a:b].max(axis=1) > 0)
    cols = np.flatnonzero(ink[:, a:b].max(axis=0) > 0)
    if len(rows) == 0:
        rows, cols = np.array([0, ink.shape[0] - 1]), np.array([0, b - a - 1])
    y0, y1 = top + rows[0], top + rows[-1] + 1
    x0, x1 = left + a + cols[0], left + a + cols[-1] + 1
    return {
        "left": int(round(x0 * scale)),
        "top": int(round(y0 * scale)),
        "width": int(round((x1 - x0) * scale)),
        "height": int(round((y1 - y0) * scale)),
    }


def open_reader(model, lines, detector, backend="auto", min_confidence=MIN_CONFIDENCE):
    """A Reader from model files (detector None or 'none': without one)."""
    return Reader(
        open_model(model, backend),
        open_model(
            lines,
            backend,
            classes=(FRAMES, CLASSES),
            input_shape=(HEIGHT, WIDTH),
            hint="train one with 'python train.py --model reader', or pass --reader PATH",
        ),
        None if detector in (None, "none") else open_detector(detector, backend),
        min_confidence,
    )


def open_detector(path, backend="auto"):
    """The not-a-digit detector (digits.detector) and its threshold, from its record."""
    hint = "train one with 'python -m digits.cli.detector', or pass --detector PATH (or none)"
    model = open_model(path, backend, classes=2, hint=hint)
    record = read_record(path) or {}
    if "threshold" not in record:
        raise DigitsError(f"{path}: no detector record with a threshold beside it; {hint}")
    return model, float(record["threshold"])


def add_reader_arguments(parser):
    """The flags of the scripts that read people's pictures (predict.py, serve.py): which
    model, what runs it, and how "not a digit" is decided."""
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="the .keras, .h5 or exported .onnx model to use"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="what runs the models: onnx (onnxruntime and the exported .onnx files, no "
        "TensorFlow: fast to start), keras, or auto: onnx when a model's .onnx file is there "
        "and up to date, else keras",
    )
    parser.add_argument(
        "--reader",
        default=DEFAULT_READER,
        help="the line reader that reads numbers and refuses letters (python train.py --model reader)",
    )
    parser.add_argument(
        "--detector",
        default=DEFAULT_DETECTOR,
        help="the not-a-digit detector (python -m digits.cli.detector); 'none' to do without",
    )
    parser.add_argument(
        "--min-confidence",
        type=probability,
        default=MIN_CONFIDENCE,
        help="a digit the model is less sure of is answered 'not a digit' (chosen on the "
        "validation hold-out and generated non-digits: python -m benchmarks.reading --choose)",
    )
