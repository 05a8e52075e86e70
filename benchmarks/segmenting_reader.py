"""The reader this project had before digits.read.reading's line reader, kept unchanged as the
baseline that `python -m benchmarks.reading` runs beside it on the same pictures.

read(model, grey) was the path from a person's picture to what predict.py printed:

1. find the ink (digits.read.images.find_ink: paper, polarity, light, noise, ruled lines);
2. separate it into digits: connected strokes (8-connected runs of ink), specks dropped,
   strokes stacked above one another joined into one digit (a 5's flag, a 4 in two
   strokes), and a piece too wide for one digit (digits that touch) cut where the ink is
   thinnest, into as many digits as reads most confidently;
3. normalise each digit exactly as a single digit is (digits.read.images.digit_from_ink) and
   classify them in one batch;
4. a digit is "not a digit" when the detector (digits.make.detector) calls it something else,
   unless the model is all but certain of it (CERTAIN), or when the model is less sure of
   it than `min_confidence`; the whole number is then not a number. The model's
   probabilities are calibrated (digits.make.calibration), so its confidence means what it says.

A picture that holds one digit reads exactly as normalize_digit + the model read it before.
"""

import sys

import numpy as np

from digits import DEFAULT_DETECTOR, DEFAULT_MODEL
from digits.read.images import NoInk, digit_from_ink, find_ink, load_picture
from digits.read.inference import predict
from digits.read.reading import open_detector
from digits.read.models import open_model

# The least confidence a digit needs: the highest threshold that refuses at most 0.25% of
# MNIST's validation digits (0.14%), chosen with `python -m benchmarks.reading --choose` on
# the validation hold-out and a development set, never on the test images.
MIN_CONFIDENCE = 0.50
# A digit the (calibrated) model is this sure of stands even when the detector doubts it:
# on the development set this cut the numbers wrongly refused from 3.3% to 1.3%, and the
# non-digits refused from 96.3% to 94.8%.
CERTAIN = 0.999
STROKE_LEVEL = 0.35  # ink above this is part of a stroke, for telling the digits apart
SPECK = 0.04  # pieces under this fraction of the largest piece's area, and low, are specks
WIDEST_DIGIT = 1.3  # width over height: a piece wider than this holds several digits
FLAT = 0.45  # a piece lower than this fraction of the median height is part of a neighbour


def components(mask):
    """The 8-connected pieces of a boolean image: a list of (rows, cols) index arrays.

    Each row's runs of ink are found at once; a run joins every run in the row above that
    it touches, diagonals included (union-find over runs).
    """
    edges = np.diff(np.pad(mask.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    starts, stops = np.argwhere(edges == 1), np.argwhere(edges == -1)
    rows, first, last = starts[:, 0], starts[:, 1], stops[:, 1]  # run: columns [first, last)
    parent = list(range(len(rows)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_start = np.searchsorted(rows, np.arange(mask.shape[0] + 1)).tolist()
    first_list, last_list = first.tolist(), last.tolist()
    for r in range(1, mask.shape[0]):
        for i in range(row_start[r], row_start[r + 1]):
            for j in range(row_start[r - 1], row_start[r]):
                if first_list[j] <= last_list[i] and first_list[i] <= last_list[j]:
                    a, b = find(i), find(j)
                    parent[max(a, b)] = min(a, b)
    labels = np.array([find(i) for i in range(len(rows))], dtype=np.int64)
    out = []
    for label in np.unique(labels):
        runs = np.flatnonzero(labels == label)
        lengths = last[runs] - first[runs]
        offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
        cols = np.arange(lengths.sum()) - offsets + np.repeat(first[runs], lengths)
        out.append((np.repeat(rows[runs], lengths), cols))
    return out


class Piece:
    """Some of the ink: the pixels it covers and their bounding box."""

    def __init__(self, rows, cols):
        self.rows, self.cols = rows, cols
        self.top, self.bottom = int(rows.min()), int(rows.max()) + 1
        self.left, self.right = int(cols.min()), int(cols.max()) + 1

    @property
    def width(self):
        return self.right - self.left

    @property
    def height(self):
        return self.bottom - self.top

    def join(self, other):
        return Piece(np.concatenate([self.rows, other.rows]), np.concatenate([self.cols, other.cols]))

    def ink(self, ink):
        """Its ink alone, cropped to its box (the neighbours' ink left out)."""
        out = np.zeros((self.height, self.width), dtype=np.float32)
        out[self.rows - self.top, self.cols - self.left] = ink[self.rows, self.cols]
        return out

    def cut(self, columns):
        """Split at these columns (absolute), left to right; empty parts are dropped."""
        edges = [self.left, *columns, self.right]
        parts = []
        for a, b in zip(edges, edges[1:]):
            keep = (self.cols >= a) & (self.cols < b)
            if keep.any():
                parts.append(Piece(self.rows[keep], self.cols[keep]))
        return parts

    def box(self):
        return {"left": self.left, "top": self.top, "width": self.width, "height": self.height}


def separate(ink):
    """The ink -> pieces, each one digit or one candidate group, sorted left to right."""
    pieces = [Piece(r, c) for r, c in components(ink > STROKE_LEVEL)]
    if not pieces:
        return []
    largest = max(len(p.rows) for p in pieces)
    tallest = max(p.height for p in pieces)
    pieces = [p for p in pieces if len(p.rows) >= SPECK * largest or p.height >= 0.25 * tallest]
    pieces.sort(key=lambda p: (p.left + p.right) / 2)
    joined = []
    for piece in pieces:  # strokes above one another are one digit
        if joined and _overlap(joined[-1], piece) >= 0.5:
            joined[-1] = joined[-1].join(piece)
        else:
            joined.append(piece)
    # a flat stroke (a 5's flag, a 2's base written apart) belongs to its nearest neighbour
    height = np.median([p.height for p in joined])
    while len(joined) > 1:
        flat = [
            i
            for i, p in enumerate(joined)
            if p.height < FLAT * height or (p.height < 0.6 * height and p.width > 1.3 * p.height)
        ]
        if not flat:
            break
        i = flat[0]
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(joined)]
        j = min(neighbours, key=lambda j: _gap(joined[i], joined[j]))
        joined[min(i, j)] = joined[i].join(joined[j])
        del joined[max(i, j)]
    return joined


def _gap(a, b):
    """Columns between two pieces (0 when they overlap)."""
    return max(0, max(a.left, b.left) - min(a.right, b.right))


def _overlap(a, b):
    """How much of the narrower of two pieces lies in the other's columns."""
    shared = min(a.right, b.right) - max(a.left, b.left)
    return shared / max(1, min(a.width, b.width))


def cuts(piece, ink, count):
    """Where to cut `piece` into `count` digits: near equal widths, where its ink is thinnest."""
    profile = np.zeros(piece.width)
    np.add.at(profile, piece.cols - piece.left, ink[piece.rows, piece.cols])
    step = piece.width / count
    columns = []
    for i in range(1, count):
        lo, hi = int(piece.left + (i - 0.35) * step), int(piece.left + (i + 0.35) * step)
        window = profile[lo - piece.left : hi - piece.left]
        columns.append(lo + int(np.argmin(window)) if len(window) else int(piece.left + i * step))
    return columns


def classify(model, inks):
    """Digit inks -> (normalised 28x28 digits, probabilities), in one batch."""
    seen = np.stack([digit_from_ink(piece) for piece in inks])
    return seen, predict(model, 255 * seen)


def read_pieces(model, ink, pieces, height, detector=None):
    """Each piece -> one or more digits (pieces). A piece too wide for one digit (digits
    that touch) is cut into the number of digits that reads best: the highest mean
    log-probability of "a digit, and this one", from the model and the detector."""
    out = []
    for piece in pieces:
        tall = max(piece.height, height)
        if piece.width <= WIDEST_DIGIT * tall:
            out.append(piece)
            continue
        most = max(2, min(6, int(np.ceil(piece.width / (0.45 * tall)))))
        best, best_score = None, -np.inf
        for count in range(2, most + 1):
            parts = piece.cut(cuts(piece, ink, count))
            seen, probabilities = classify(model, [p.ink(ink) for p in parts])
            sure = probabilities.max(axis=1)
            if detector is not None:
                sure = sure * (1 - detector.not_a_digit(seen))
            score = float(np.mean(np.log(sure + 1e-9)))
            if score > best_score:
                best, best_score = parts, score
        out.extend(best)
    return out


def read(model, grey, name="image", min_confidence=MIN_CONFIDENCE, detector=None):
    """A picture (2-D grey levels in [0, 1], from images.load_picture) -> a JSON-ready dict:

    number         the digits left to right as a string (leading zeros kept), or None when
                   any of them is not a digit (or there is no ink at all)
    `detector` is a Detector (open_detector): a digit it calls "not a digit" with more
    than its threshold's probability is refused too.
    digits         each: digit (None if not a digit, with a `reason`), confidence,
                   probabilities, box (in the picture's pixels) and input (the 28x28 digit
                   the model saw, a numpy array)
    and for a picture of one digit, that digit's digit, confidence, probabilities, input.
    A picture that cannot be read at all raises DigitsError.
    """
    try:
        ink = find_ink(grey, name)
    except NoInk:
        return {"number": None, "digits": [], "reason": "no ink: the picture is blank"}
    pieces = separate(ink)
    height = float(np.median([p.height for p in pieces])) if pieces else 0.0
    pieces = read_pieces(model, ink, pieces, height, detector)
    if len(pieces) <= 1:  # one digit: read exactly as a single digit always was
        seen, probabilities = classify(model, [ink])
        pieces = pieces or [Piece(*np.nonzero(ink > 0))]
    else:
        seen, probabilities = classify(model, [p.ink(ink) for p in pieces])
    others = np.zeros(len(seen)) if detector is None else detector.not_a_digit(seen)
    digits = []
    for piece, digit, p, other in zip(pieces, seen, probabilities, others):
        sure = float(p.max())
        entry = {
            "digit": int(p.argmax()),
            "confidence": sure,
            "probabilities": [float(v) for v in p],
            "box": piece.box(),
            "input": digit,
        }
        if detector is not None and other > detector.threshold and sure < CERTAIN:
            entry["digit"] = None
            entry["reason"] = f"not a digit: it looks like something else ({100 * other:.0f}%)"
        elif sure < min_confidence:
            entry["digit"] = None
            entry["reason"] = (
                f"not a digit: the model is {100 * sure:.0f}% sure at most "
                f"(it needs {100 * min_confidence:.0f}%)"
            )
        digits.append(entry)
    number = None if any(d["digit"] is None for d in digits) else "".join(str(d["digit"]) for d in digits)
    answer = {"number": number, "digits": digits}
    if len(digits) == 1:
        answer.update({k: digits[0][k] for k in ("digit", "confidence", "probabilities", "input")})
        if "reason" in digits[0]:
            answer["reason"] = digits[0]["reason"]
    return answer


def main(argv=None):
    """`python -m benchmarks.segmenting_reader IMAGE`: one picture read as predict.py read it
    before the line reader, on the light path where the .onnx files are there (the baseline
    of python -m benchmarks.startup)."""
    (path,) = sys.argv[1:] if argv is None else argv
    model = open_model(DEFAULT_MODEL)
    answer = read(model, load_picture(path)[0], path, detector=open_detector(DEFAULT_DETECTOR))
    print(f"{path}: {answer['number'] if answer['number'] is not None else 'not a digit'}")


if __name__ == "__main__":
    main()
