"""Reading a picture as a person would: every digit in it, left to right, or "not a digit".

Reader.read(grey) is the one path from a person's picture to what predict.py prints and
the drawing page shows:

1. find the ink (digits.read.images.locate_ink: paper, polarity, light, noise, ruled lines)
   and split it into lines where blank rows part it (lines_of); each line is read alone,
   and the Reading holds them top to bottom (Reading.of_lines);
2. the line reader (its strip and classes: digits.read.strip) reads the whole line of ink
   at once: blank, a digit or "something else" every 4 columns of its 32-row strip, so
   digits that touch, overlap or stand on a line need no cutting.
   It reads the strip three times, as it is and moved a row up and a row down, and its
   probabilities are averaged (read_line);
3. a line of one digit is then read as a single digit always was: its ink normalised as
   MNIST's digits were (digits.read.images.digit_from_ink) and classified by the digit model,
   whose probabilities are calibrated; narrow ink (a 1) is read by both networks
   (NARROW); the not-a-digit detector (a Detector) and `min_confidence` may refuse it.
   A line the line reader reads nothing in (a blur to it) is read so too, but only where
   the digit model and the detector agree on a digit (SURE_UNREAD);
4. a line of several is the number the line reader read, each digit's box the ink
   between its neighbours' midpoints (an underline or a box around it left out:
   images.remove_form_lines). Anything in it that the line reader calls "something else"
   (a letter, a symbol, a doodle), unless written apart and taken for a digit by both the
   digit model and the detector, or a digit it is less sure of than `min_confidence`,
   makes the whole picture "not a digit". The separators it read
   (. , - / :) stay in the number as written, but at its ends (_trimmed: a leading minus
   stays), and a "/" only in a date or a fraction (_dated: elsewhere it is a slanted 1, or
   a date's lost slash was read as a 1), a ":" only in a time (_timed: elsewhere it is a
   speck or two); a wide gap between two digits is a space (spaces_in); a mark far
   shorter than the digits beside it is a separator, and a short flat one first in the
   line a minus, whatever the line reader called it (SMALL), unless both networks are sure
   of the same digit there (SURE_IN_LINE).
"""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from digits import DigitsError
from digits.provenance import read_record
from digits.read.images import NoInk, crop_to_ink, digit_from_ink, locate_ink, remove_form_lines
from digits.read.inference import predict
from digits.read.models import open_model
from digits.read.strip import (
    CLASSES,
    FIRST_SEPARATOR,
    FRAMES,
    HEIGHT,
    OTHER,
    STRIDE,
    WIDTH,
    class_of,
    decode,
    digit_probabilities,
    line_input,
    text_of,
)

# The least confidence a digit needs, and the least probability at which the line
# reader's "something else" stands (below it, the frame's likeliest digit is read). Chosen
# together on the development sets with `python -m benchmarks.reading --choose DIR`
# (`python tests/make_reading_images.py --dev DIR`): 93.3% of its numbers read, 98.2% of
# its non-digits refused.
MIN_CONFIDENCE = 0.3
SOMETHING_ELSE_LEVEL = 0.7
SOMETHING_ELSE = "not a digit: it reads as a letter, a symbol or a drawing"
# A digit the (calibrated) digit model is this sure of stands even when the detector or
# the line reader doubts it, written alone or apart from its neighbours: on the
# development set, 93.8% of the numbers read where 93.3% read without it, with the same
# 98.2% of non-digits refused.
CERTAIN = 0.999
# A single symbol the line reader calls "something else" is a digit after all when the
# digit model is SURE_ALONE sure of it and the detector far from doubting it (its "not a
# digit" under DETECTOR_CLEAR of its threshold): two networks of three agree. A printed
# italic 1 with a foot had been refused. On the development set (python -m
# benchmarks.reading --choose DIR), 98.9% of the single digits read right where 98.1% had,
# 98.6% of the printed ones where 96.4%, with the same 95.8% of non-digits refused; as
# many at 0.85 as at 0.9, and at a clearance of 0.2 to 0.4 (at 0.8, a non-digit more
# read).
# The same agreement makes a digit of a piece written apart in a number that the line
# reader calls something else, where it reads at least as many of the line's symbols as
# digits (a row of symbols, ")}", the digit model takes for 1s): of 1,200 development
# numbers (--per-family 100), 91.5% read where 91.1% had (a serif "I"-like 1, a 4 drawn
# like an N), with the same 94.2% of its non-digits refused (93.6% without the condition).
SURE_ALONE = 0.9
DETECTOR_CLEAR = 0.2
# A line in which the line reader reads nothing at all, blank at every frame, is one
# symbol, a digit where the digit model is SURE_UNREAD sure of it and the detector clear,
# unless its ink is over UNREAD_WIDEST times as wide as tall (no digit is; a "~" or a dash
# is): a digit scanned small and soft is a blur of grey to the line reader (a 3, a 5, a 6
# that a person reads at once). Of 450 soft-scanned development digits (`python
# tests/make_digit_images.py --dev DIR --seed S`, S = 11-13), 440 read right where 434 had,
# and none more misread; of the 1,265 non-digits of the three number development sets
# (tests/make_reading_images.py), none more read, and the numbers read the same. At
# SURE_ALONE (0.9) a blurred 2 had read as 8 (96% sure) and a small "~" as 2 (95%); the six
# read right were 98% sure or more, and at most 1.6 times as wide as tall. Of 1,848 digits
# made with other seeds after SURE_UNREAD was chosen (seeds 14-16), 1,806 read right where
# 1,801 had. UNREAD_WIDEST came from 550 non-digits made so (the number generator's seed 9
# for 7), where a "~" read as 2 (97.1% sure); with it, they are refused as before.
SURE_UNREAD = 0.97
UNREAD_WIDEST = 2.0
NOTHING_READ = "not a digit: nothing in it reads as a digit"
# The rows the line reader's strip is moved by, each read and the probabilities averaged
# (read_line): on `tests/make_reading_images.py --dev DIR --per-family 100`, 92.5% of the
# numbers read exactly where one reading read 91.8% (and 91.9% with five readings); with
# round three's reader and rules, 91.1% where one reading reads 90.2% (91.0% with five).
SHIFTS = (0, 1, -1)
# A single digit whose ink is narrower than this fraction of its height (a 1, mostly) is
# read by both networks, the mean of their probabilities (combine): MNIST's writers seldom
# gave a 1 a long flag, so the digit model reads such a 1 as a 7, where the line reader,
# which has seen printed ones, reads it right. Of 2,330 development single digits
# (`python tests/make_digit_images.py --dev DIR --seed S`, S = 8, 20-23), the digit model
# alone read 87 wrong, 67 at 0.4, 63 at 0.5; of 3,000 of MNIST's validation digits read
# as pictures, 65 at 0.4 and 67 at 0.5. With the models trained on flagged 1s (round three),
# of 616 (`tests/make_digit_images.py --dev DIR`): 98.9% right at 0.4 and at 0.6, 99.2%
# with every digit read by both, two pictures, not worth a second network on every digit.
NARROW = 0.4
# A gap between two digits is a space when it is wider than SPACE of the digits' height and
# SPACE_RATIO times the median of the line's other gaps, so that digits written wide apart
# stay one number: of the 360 development numbers (`tests/make_reading_images.py --dev
# DIR`, `python -m benchmarks.reading --choose DIR`), 93.3% read exactly with these, and
# 83.3% of those with separators; 92.5% and 83.3% with SPACE 0.9, 92.8% and 76.7% with a
# ratio of 3.0, and as with these at 1.5 and 2.5 or 1.2 and 2.0. On a set over three
# times as big (1,200 numbers, --per-family 100): 91.1% with these, 91.2% at a ratio of
# 2.0 (one number more), no more with any SPACE of 0.6 to 1.0 and a ratio of 1.5 to 2.5,
# nor with a second rule for print's tight gaps (a space also where a gap is over 0.4 to
# 0.6 of the height and 3.5 to 6 times the others: 90.2 to 91.0%).
# A band of ink rows is a line of its own when it is LINE_SHARE as tall as the tallest
# (an underline is not).
SPACE = 1.2
SPACE_RATIO = 2.5
LINE_SHARE = 0.4
# The whole number's confidence is the product of its symbols' raised to this power,
# fitted on the 356 development numbers the reader answered (the least log loss of "read
# exactly", benchmarks.reading --choose). That fit now gives 0.70, since round three's
# last constants, with a log loss only 0.0008 lower (0.1629 against 0.1637): flat, so
# 0.85 and the coverage figures measured with it (docs/reading.md) stay.
STRING_CONFIDENCE_POWER = 0.85
# A symbol between two others whose ink is less than SMALL of the other symbols' median
# height is a separator (the likeliest one at its frames), even where the line reader read
# a digit: a hand-written comma read as an 8 turns 4,612 into 48612, a silent wrong number.
# On the development set, one more of its 30 separated numbers read right (13,9 had read
# 1399), at 0.45 as at 0.55, and no other answer changed (benchmarks.reading --choose).
# So is a line's first mark that short and wider than tall, as a minus sign (only a minus
# starts a number): "-8" had read 28 on the test split. No development answer changed at
# 0.45; at 0.55 one number more is misread since.
SMALL = 0.45
# ...unless the line reader is SURE_IN_LINE sure of the digit it read there and the digit
# model, reading the mark alone, takes it for the same digit: a small 8, 4 or 9 among taller
# digits ("684" had read 6:4, "98190" 981,0). Of the development numbers' marks made
# separators so, those digits were 99.3% to 99.999% sure, the separators (a comma read as a
# 6) 33% to 96%; a comma the line reader was 99.4% sure was a 6, on a set made after, the
# digit model read as a 0.
SURE_IN_LINE = 0.99


@dataclass(frozen=True)
class Digit:
    """One digit of a reading: `digit` is None where it is not a digit (`reason` says why)."""

    digit: int | None
    confidence: float
    probabilities: np.ndarray  # the ten digits'
    box: dict  # left, top, width, height in the picture's own pixels
    input: np.ndarray  # the 28x28 digit as the digit model takes it, 0-1
    reason: str | None = None

    def to_json(self, inputs=True):
        out = {
            "digit": self.digit,
            "confidence": self.confidence,
            "probabilities": [round(float(p), 6) for p in self.probabilities],
            "box": self.box,
        }
        if inputs:
            out["input"] = np.round(self.input, 3).tolist()
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Separator:
    """A separator written in a number (one of digits.read.strip.SEPARATORS)."""

    separator: str
    confidence: float
    box: dict

    def to_json(self):
        return {"separator": self.separator, "confidence": self.confidence, "box": self.box}


@dataclass(frozen=True)
class Reading:
    """What a picture says: `number` is the number as written (digits and separators left to
    right, leading zeros kept, a space where the writer left one, a line break between
    lines), or None when it is not a number (`reason` says why). `digits` are its digits,
    `separators` its separators, `lines` each line's Reading where there are several, and
    `confidence` how sure the reader is of the whole `number`."""

    number: str | None
    digits: tuple = ()
    reason: str | None = None
    separators: tuple = ()
    lines: tuple = ()
    confidence: float | None = None

    @classmethod
    def of(cls, symbols, spaces=()):
        """The reading of a line's Digits and Separators, left to right (`spaces`: the
        indices of those a space comes before): its number, or the first refused digit's
        reason."""
        digits = tuple(s for s in symbols if isinstance(s, Digit))
        separators = tuple(s for s in symbols if isinstance(s, Separator))
        refused = next((d for d in digits if d.digit is None), None)
        if refused is not None:
            return cls(None, digits, refused.reason, separators)
        text = "".join(
            (" " if i in spaces else "") + (str(s.digit) if isinstance(s, Digit) else s.separator)
            for i, s in enumerate(symbols)
        )
        sure = float(np.prod([s.confidence for s in symbols])) ** STRING_CONFIDENCE_POWER
        return cls(text, digits, None, separators, (), sure)

    @classmethod
    def of_lines(cls, lines):
        """The reading of several lines, top to bottom: their numbers one per line, or the
        first refused line's reason."""
        digits = tuple(d for line in lines for d in line.digits)
        separators = tuple(s for line in lines for s in line.separators)
        refused = next((i for i, line in enumerate(lines) if line.number is None), None)
        if refused is not None:
            reason = f"line {refused + 1} of {len(lines)}: {lines[refused].reason}"
            return cls(None, digits, reason, separators, tuple(lines))
        sure = float(np.prod([line.confidence for line in lines]))
        return cls("\n".join(line.number for line in lines), digits, None, separators, tuple(lines), sure)

    @property
    def alone(self):
        """The Digit of a picture of one digit alone (no separator beside it), else None."""
        return self.digits[0] if len(self.digits) == 1 and not self.separators else None

    def to_json(self, inputs=True):
        """A JSON-ready dict (the page's and predict.py --json's), with the same fields for
        every picture: number, number_confidence, reason (None when read), digits,
        separators, lines (each line's number); and digit, confidence, probabilities (and
        input) of a picture of one digit, None for any other. `inputs` False leaves the
        28x28 inputs out."""
        digits = [d.to_json(inputs) for d in self.digits]
        one = digits[0] if self.alone is not None else {}
        return {
            "number": self.number,
            "number_confidence": None if self.confidence is None else round(self.confidence, 6),
            "reason": self.reason,
            "digits": digits,
            "separators": [s.to_json() for s in self.separators],
            "lines": [line.number for line in self.lines] if self.lines else [self.number],
            **{k: one.get(k) for k in ("digit", "confidence", "probabilities", "input")[: 4 if inputs else 3]},
        }


@dataclass(frozen=True)
class Detector:
    """The not-a-digit detector (train.py --model detector): its model, and the "not a
    digit" probability above which it refuses (its record's threshold)."""

    model: object
    threshold: float

    NOT_A_DIGIT = 1  # its second output

    def not_a_digit(self, inputs):
        """The probability that each 28x28 input (0-1) is not a digit."""
        return predict(self.model, 255 * inputs)[:, self.NOT_A_DIGIT]


class Reader:
    """Reads pictures: `model` classifies single digits; `lines` is the line reader;
    `detector` a Detector, or None."""

    def __init__(self, model, lines, detector=None, min_confidence=MIN_CONFIDENCE,
                 something_else_level=SOMETHING_ELSE_LEVEL, models=None):
        self.model, self.lines, self.detector = model, lines, detector
        self.min_confidence, self.something_else_level = min_confidence, something_else_level
        self.models = models or {}  # the files read from: {role: {"file", "weights_sha256"}}

    def read(self, grey, name="image", scale=1.0):
        """A picture (2-D grey levels in [0, 1], from images.load_picture) -> a Reading.

        `scale` is the original picture's size over `grey`'s (load_picture reduces large
        pictures), so that boxes are in the original's pixels. A picture that cannot be
        read at all raises DigitsError.
        """
        try:
            ink, (top, left) = locate_ink(grey, name)
        except NoInk:
            return Reading(None, (), "no ink: the picture is blank")
        bands = lines_of(ink)
        if len(bands) == 1:
            return self._read_line(ink, top, left, scale)
        return Reading.of_lines([self._read_line(ink[a:b], top + a, left, scale) for a, b in bands])

    def _read_line(self, ink, top, left, scale):
        """One line of ink (its top-left corner at `top`, `left` in the picture) -> a Reading."""
        if not ink.any():
            return Reading(None, (), "no ink: the line is blank")
        strip, placement = line_input(ink)
        frames = read_line(self.lines, strip)
        decoded = decode(frames)
        if not decoded and not _wider_than(ink, UNREAD_WIDEST):
            # blank at every frame: one symbol, left to the other two networks (SURE_UNREAD)
            box = _box(ink, 0, ink.shape[1], top, left, scale)
            return Reading.of([self._single(ink, box, None, NOTHING_READ, SURE_UNREAD)])
        symbols = _timed(_dated(_trimmed([self._doubt(frames, symbol) for symbol in decoded]), frames))
        if all(symbol.is_separator for symbol in symbols):  # none at all, too
            return Reading(None, (), NOTHING_READ)
        if len(symbols) > 1:
            # A number's digits are cut and boxed without the line they stand on or the box
            # they sit in, so that digits written apart in a box are apart for the digit
            # model too (the line reader, which saw such lines in training, reads them
            # whole: fed the cleaned ink instead, it read 5 of these numbers right that it
            # had missed, and missed 7 it had read).
            # Of 1,200 development numbers, 91.8% read where 91.5% had, lined or boxed 92%
            # where 90%, for any rule of 0.6 to 0.9 of the line's width. (With the
            # agreement below, of 1,200 more made with the generator's seed 8 for 7: 90.8%
            # where 90.1% had, lined or boxed 88% where 85%.)
            ink = remove_form_lines(ink)
        apart = _apart(ink, len(symbols))
        spans = apart or _spans(symbols, placement, ink.shape[1])
        boxes = [_box(ink, a, b, top, left, scale) for a, b in spans]
        if len(symbols) == 1:
            symbol = symbols[0]
            return Reading.of([self._single(ink, boxes[0], _in_line(frames, symbol) if symbol.is_digit else None)])
        seen = np.stack([_crop(ink, a, b) for a, b in spans])
        by_model = predict(self.model, 255 * seen)  # each digit alone, as a single one is
        small = _small(symbols, boxes)
        mostly_digits = sum(s.is_digit for s in symbols) >= sum(s.cls == OTHER for s in symbols)
        read = []
        for i, (symbol, alone, image, box, mark) in enumerate(zip(symbols, by_model, seen, boxes, small)):
            if mark and symbol.is_digit and not _sure_digit(symbol, alone):
                symbol = _as_separator(frames, symbol, first=i == 0)
            if symbol.is_separator:
                read.append(Separator(text_of(symbol.cls), symbol.confidence, box))
                continue
            in_line = _in_line(frames, symbol)
            # something else, written apart, that the digit model is all but certain of is
            # a digit, as it would be alone; so is one that the digit model and the detector
            # both take for a digit, in a line the line reader reads mostly as digits
            if not symbol.is_digit and not (
                apart and (alone.max() >= CERTAIN or (mostly_digits and self._agreed(image, alone)))
            ):
                read.append(Digit(None, symbol.confidence, in_line, box, image, SOMETHING_ELSE))
                continue
            p = combine(in_line, alone) if symbol.is_digit and apart else in_line if symbol.is_digit else alone
            sure, reason = float(p.max()), None
            if sure < self.min_confidence:
                reason = (
                    f"not a digit: the readers are {100 * sure:.0f}% sure at most "
                    f"(they need {100 * self.min_confidence:.0f}%)"
                )
            read.append(Digit(None if reason else int(p.argmax()), sure, p, box, image, reason))
        return Reading.of(read, spaces_in(read))

    def _agreed(self, seen, p, other=None, agree_at=SURE_ALONE):
        """Whether the digit model (its probabilities `p` for the 28x28 `seen`) and the
        detector (its "not a digit", `other`, computed if None) agree on a digit that the
        line reader calls something else: the digit model `agree_at` sure, the detector's
        "not a digit" under DETECTOR_CLEAR of its threshold."""
        if self.detector is None or p.max() < agree_at:
            return False
        if other is None:
            other = float(self.detector.not_a_digit(seen[None])[0])
        return other < DETECTOR_CLEAR * self.detector.threshold

    def _doubt(self, frames, symbol):
        """A "something else" less probable than the level -> the likeliest digit at its
        frame, as sure as its share of the ten digits' probability there."""
        if symbol.is_digit or symbol.confidence >= self.something_else_level:
            return symbol
        return _likeliest_digit(frames, symbol, OTHER)

    def _single(self, ink, box, in_line, refused=SOMETHING_ELSE, agree_at=SURE_ALONE):
        """A line of one symbol, read as a single digit always was (see the docstring): a
        Digit. `in_line`: the line reader's probabilities of the ten digits for it, or None
        where it read "something else" (or nothing: `refused` says which, and `agree_at` how
        sure the digit model must be for the other two networks to agree on a digit)."""
        seen = digit_from_ink(ink)
        p = predict(self.model, 255 * seen[None])[0]
        something_else = in_line is None
        if not something_else and _narrow(ink):
            p = combine(in_line, p)
        sure = float(p.max())
        reason = None
        other = 0.0 if self.detector is None else float(self.detector.not_a_digit(seen[None])[0])
        if something_else and sure < CERTAIN and not self._agreed(seen, p, other, agree_at):
            reason = refused
        elif self.detector is not None and other > self.detector.threshold and sure < CERTAIN:
            reason = f"not a digit: it looks like something else ({100 * other:.0f}%)"
        elif sure < self.min_confidence:
            reason = (
                f"not a digit: the model is {100 * sure:.0f}% sure at most "
                f"(it needs {100 * self.min_confidence:.0f}%)"
            )
        return Digit(None if reason else int(p.argmax()), sure, p, box, seen, reason)


def read_line(lines, strip):
    """The line reader's (FRAMES, CLASSES) probabilities for one strip: the mean of its
    readings of the strip moved by SHIFTS rows (line_input leaves two blank rows above
    and below the ink, so no ink wraps round)."""
    return predict(lines, np.stack([np.roll(strip, shift, axis=0) for shift in SHIFTS])).mean(axis=0)


def lines_of(ink):
    """The ink's rows split into lines of writing, top to bottom, as [(top, bottom)]: runs
    of inked rows at least LINE_SHARE as tall as the tallest, cut midway between them (a
    thinner run, an underline or a speck, goes with its neighbours)."""
    runs = _runs(ink.max(axis=1) > 0)
    tallest = max(b - a for a, b in runs)
    lines = [(a, b) for a, b in runs if b - a >= LINE_SHARE * tallest]
    cuts = [0, *[int(b + a) // 2 for (_, b), (a, _) in zip(lines, lines[1:])], ink.shape[0]]
    return list(zip(cuts, cuts[1:]))


def _runs(inked):
    """The runs of True in a 1-D boolean array, as [start, stop) pairs."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], inked.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def _trimmed(symbols):
    """A line's symbols less the separators at its ends (a full stop after a number, a speck
    read as a dot), a leading minus sign kept."""
    while symbols and symbols[-1].is_separator:
        symbols = symbols[:-1]
    while symbols and symbols[0].is_separator and not (text_of(symbols[0].cls) == "-" and len(symbols) > 1
                                                       and not symbols[1].is_separator):
        symbols = symbols[1:]
    return symbols


def _dated(symbols, frames):
    """A line's symbols with its slashes made sense of: a number with a "/" that is no date
    or fraction (is_date_or_fraction) is either a date one of whose slashes was read as a 1
    ("26/3217549": that 1, the one the line reader gives "/" most probability where several
    would do, is a "/") or a number with a slanted 1 read as a "/" ("6/397": every "/" is
    its likeliest digit, as sure as its share of the ten digits' probability there)."""
    text = _spelt(symbols)
    if "/" not in text or is_date_or_fraction(text):
        return symbols
    slash = class_of("/")
    lost = [i for i, ch in enumerate(text) if ch == "1" and is_date_or_fraction(f"{text[:i]}/{text[i + 1 :]}")]
    if lost:
        sure = {i: float(frames[symbols[i].first : symbols[i].last + 1, slash].max()) for i in lost}
        i = max(lost, key=sure.get)
        return [*symbols[:i], replace(symbols[i], cls=slash, confidence=sure[i]), *symbols[i + 1 :]]
    return [_likeliest_digit(frames, s, slash) if s.cls == slash else s for s in symbols]


def _likeliest_digit(frames, symbol, cls):
    """A symbol -> the likeliest digit at its frame where class `cls` is likeliest, as sure
    as its share of the ten digits' probability there."""
    frame = frames[symbol.first + int(np.argmax(frames[symbol.first : symbol.last + 1, cls]))]
    shares = digit_probabilities(frame)
    digit = int(np.argmax(shares))
    return replace(symbol, cls=class_of(digit), confidence=float(shares[digit]))


def _timed(symbols):
    """A line's symbols less its colons where it reads as no time (is_time): a speck or two
    of a pen or a picture read as a colon ("29:4" for 294, "1725:08" for 172508)."""
    text = _spelt(symbols)
    if ":" not in text or is_time(text):
        return symbols
    return [s for s in symbols if s.cls != class_of(":")]


def _spelt(symbols):
    """The characters a line's symbols spell, something else as a digit (it may yet be one,
    written apart, where the other two networks agree)."""
    return "".join(text_of(s.cls) or "0" for s in symbols)


def is_time(text):
    """Whether digits and colons make a time: hours of one or two digits, then minutes and
    perhaps seconds of two (9:30, 12:30, 12:30:05)."""
    groups = _group_lengths(text, ":")
    return len(groups) in (2, 3) and 1 <= groups[0] <= 2 and all(g == 2 for g in groups[1:])


def is_date_or_fraction(text):
    """Whether digits and slashes make what people write with a slash: a day and month or
    a fraction of one or two digits each (12/05, 3/4, 15/16), perhaps with a year of four
    digits (12/2026), a date with a year of two or four (12/05/26, 12/05/2026), or a year
    first (2026/12/05). Nothing else in it."""
    groups = _group_lengths(text, "/")
    if 0 in groups or len(groups) not in (2, 3):
        return False
    if len(groups) == 2:
        return groups[0] <= 2 and (groups[1] <= 2 or groups[1] == 4)
    day_month_year = groups[0] <= 2 and groups[1] <= 2 and groups[2] in (2, 4)
    return day_month_year or (groups[0] == 4 and groups[1] <= 2 and groups[2] <= 2)


def _group_lengths(text, separator):
    """The number of digits in each of `text`'s groups between `separator`s (0 for a group
    that is empty or holds anything but digits)."""
    return [len(g) if g.isdigit() else 0 for g in text.split(separator)]


def spaces_in(symbols):
    """The indices of the symbols (Digits and Separators, left to right) that a space comes
    before: a gap between two digits wider than SPACE of their height and SPACE_RATIO times
    the median of the line's other gaps (a line of two symbols has no space)."""
    gaps = [b.box["left"] - (a.box["left"] + a.box["width"]) for a, b in zip(symbols, symbols[1:])]
    if len(gaps) < 2:
        return set()
    height = float(np.median([s.box["height"] for s in symbols if isinstance(s, Digit)]))
    spaces = set()
    for i, gap in enumerate(gaps):
        others = float(np.median(gaps[:i] + gaps[i + 1 :]))
        if (isinstance(symbols[i], Digit) and isinstance(symbols[i + 1], Digit)
                and gap > SPACE * height and gap > SPACE_RATIO * max(others, 1.0)):
            spaces.add(i + 1)
    return spaces


def _small(symbols, boxes):
    """For each symbol, whether it is a mark to read as a separator (_as_separator): its ink
    shorter than SMALL of the median height of the line's other symbols that are not
    separators, and either between two others (with two others to measure it against) or
    first in the line and wider than tall, a minus sign (with one other: "-8")."""
    out = []
    for i, box in enumerate(boxes):
        others = [b["height"] for j, (s, b) in enumerate(zip(symbols, boxes)) if j != i and not s.is_separator]
        short = bool(others) and box["height"] < SMALL * float(np.median(others))
        inside = 0 < i < len(symbols) - 1 and len(others) >= 2
        minus = i == 0 and len(symbols) > 1 and box["width"] > box["height"]
        out.append(short and (inside or minus))
    return out


def _sure_digit(symbol, alone):
    """Whether a digit the line reader read is one it is SURE_IN_LINE sure of and that the
    digit model (its ten probabilities `alone` for the digit's ink) reads as the same."""
    return symbol.confidence >= SURE_IN_LINE and class_of(int(np.argmax(alone))) == symbol.cls


def _as_separator(frames, symbol, first=False):
    """A symbol read as a digit -> the separator likeliest at its frames (the first in a
    line: a minus, the only separator a number starts with), as sure as its share of the
    separators' probability there."""
    span = frames[symbol.first : symbol.last + 1, FIRST_SEPARATOR:].max(axis=0)
    best = class_of("-") - FIRST_SEPARATOR if first else int(np.argmax(span))
    share = float(span[best] / max(float(span.sum()), 1e-9))
    return replace(symbol, cls=FIRST_SEPARATOR + best, confidence=share)


def combine(in_line, alone):
    """One digit's probabilities from the line reader (in its line) and the digit model (its
    ink alone): their mean. Of 1,200 development numbers (--per-family 100) the mean read
    91.1% exactly; a third of the line reader's and two thirds of the digit model's 90.8%,
    the other way round 90.4%, their normalised geometric mean 91.1%; and the mean for
    every digit alone in its piece of ink, touching ones beside it or not, 91.0%. With an
    underline and a box left out of the pieces (remove_form_lines), the mean for touching
    digits too read 92.1% where 91.8% did, but 93.1% of the 360 of --dev DIR where 94.2%."""
    return (in_line + alone) / 2


def _narrow(ink):
    """Whether the ink is narrower than NARROW times its height (a 1, as a rule)."""
    ink = crop_to_ink(ink)
    return ink.shape[1] < NARROW * ink.shape[0]


def _wider_than(ink, times):
    """Whether the ink is wider than `times` its height."""
    ink = crop_to_ink(ink)
    return ink.shape[1] > times * ink.shape[0]


def _in_line(frames, symbol):
    """The line reader's probabilities of the ten digits for a symbol, at its likeliest frame."""
    likeliest = symbol.first + int(np.argmax(frames[symbol.first : symbol.last + 1, symbol.cls]))
    return digit_probabilities(frames[likeliest])


def _crop(ink, a, b):
    """The 28x28 digit the ink in columns [a, b) makes (blank if there is none)."""
    piece = np.zeros_like(ink)
    piece[:, a:b] = ink[:, a:b]
    return digit_from_ink(piece) if piece.any() else np.zeros((28, 28), np.float32)


def _apart(ink, count):
    """The ink's columns split where no ink is, as [a, b) spans, if that makes `count`
    pieces (digits written apart); else None. Pieces of under 1% of the ink are specks."""
    runs = _runs(ink.max(axis=0) > 0)
    mass = ink.sum()
    runs = [(a, b) for a, b in runs if ink[:, a:b].sum() >= 0.01 * mass]
    return runs if len(runs) == count else None


def _spans(symbols, placement, width):
    """Each symbol's ink columns [a, b): from the midpoint with the one before to the
    midpoint with the one after (the line's ends for the first and last)."""
    centres = [(symbol.first + symbol.last + 1) / 2 * STRIDE for symbol in symbols]
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
    no_detector = detector in (None, "none")
    files = {"digits": model, "reader": lines, **({} if no_detector else {"detector": detector})}
    return Reader(
        open_model(model, backend),
        open_model(
            lines,
            backend,
            classes=(FRAMES, CLASSES),
            input_shape=(HEIGHT, WIDTH),
            hint="train one with 'python train.py --model reader', or pass --reader PATH",
        ),
        None if no_detector else open_detector(detector, backend),
        min_confidence,
        models={
            role: {"file": Path(path).name, "weights_sha256": (read_record(path) or {}).get("weights_sha256")}
            for role, path in files.items()
        },
    )


def open_detector(path, backend="auto"):
    """The not-a-digit Detector at `path`, with the threshold its record holds."""
    hint = "train one with 'python train.py --model detector', or pass --detector PATH (or none)"
    model = open_model(path, backend, classes=2, hint=hint)
    record = read_record(path) or {}
    if "threshold" not in record:
        raise DigitsError(f"{path}: no detector record with a threshold beside it; {hint}")
    return Detector(model, float(record["threshold"]))
