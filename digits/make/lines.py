"""Lines of ink made by code, to train and test the line reader (what it sees of a line:
digits.read.strip).

make_lines(split, count) draws its training, development and test lines, each source
split so that a test figure is about writing the reader never saw:
- handwritten digits from MNIST: training lines from the training images less the
  validation hold-out, development lines from the hold-out, test lines from MNIST's
  test images (written by other people than the training images);
- printed digits, letters of both cases, symbols and words in the font families of
  that split (digits.make.fonts);
- pen-drawn letters, doodles and shapes (digits.make.synthetic), with the split's seed;
laid out with random gaps (touching and overlapping too), sizes, slants and baselines,
on an underline, in a box or a row of boxes, on ruled or squared paper, dark on light or
light on dark, blurred and noisy, and then put through find_ink as a photo would be.
"""

import multiprocessing
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from digits import DigitsError
from digits.make import fonts, synthetic
from digits.make.data import split_validation
from digits.make.synthetic import LETTERS, SYMBOLS
from digits.read.images import find_ink
from digits.read.strip import HEIGHT, OTHER, WIDTH, class_of, line_input

MAX_LABEL = 12  # the longest label a training line has
SEEDS = {"train": 0, "dev": 1, "test": 2}


class Sources:
    """What one split draws with: its MNIST digits, its fonts, its random numbers."""

    def __init__(self, split, digits, labels, fonts, seed):
        self.split, self.digits, self.labels = split, digits, labels
        self.by_label = [np.flatnonzero(labels == d) for d in range(10)]
        self.fonts, self.rng = fonts, np.random.default_rng(seed)
        self._font_cache = {}

    def font(self, size):
        path = self.fonts[int(self.rng.integers(len(self.fonts)))]
        key = (path, size)
        if key not in self._font_cache:
            self._font_cache[key] = ImageFont.truetype(path, size)
        return self._font_cache[key]

    def mnist_digit(self, digit):
        image = self.digits[self.rng.choice(self.by_label[digit])].astype(np.float32) / 255
        rows, cols = np.nonzero(image > 0.1)
        return image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _resize(glyph, height, stretch):
    h, w = glyph.shape
    size = (max(1, round(w * height / h * stretch)), max(1, height))
    return np.asarray(Image.fromarray(glyph, mode="F").resize(size, Image.Resampling.BILINEAR))


def _lay_out(glyphs, rng, height, touching):
    """Glyph bitmaps (each with its top offset from the line's top) -> one ink canvas.
    Gaps are random; with `touching` they are zero or negative."""
    gaps = rng.uniform(-0.2, 0.02, len(glyphs)) if touching else rng.uniform(0.02, 0.45, len(glyphs))
    gaps = (gaps * height).astype(int)
    total = sum(g.shape[1] for g, _ in glyphs) + int(gaps[1:].sum()) + 2 * height
    tallest = max(top + g.shape[0] for g, top in glyphs)
    canvas = np.zeros((tallest + height, max(total, 8)), dtype=np.float32)
    x, top_margin = height, height // 2
    for (glyph, top), gap in zip(glyphs, [0, *gaps[1:]]):
        x = max(0, x + gap)
        y = top_margin + top
        region = canvas[y : y + glyph.shape[0], x : x + glyph.shape[1]]
        np.maximum(region, glyph[: region.shape[0], : region.shape[1]], out=region)
        x += glyph.shape[1]
    return canvas


def handwritten(src, label, height, touching):
    rng = src.rng
    glyphs = []
    for digit in label:
        glyph = _resize(src.mnist_digit(digit), int(height * rng.uniform(0.8, 1.05)), rng.uniform(0.8, 1.25))
        top = int(rng.normal(0, 0.05) * height + (height - glyph.shape[0]) * rng.uniform(0.3, 1))
        glyphs.append((glyph, max(0, top)))
    return _lay_out(glyphs, rng, height, touching)


def printed(src, text, height, touching):
    """Text in one of the split's fonts, glyph by glyph on a common baseline."""
    rng = src.rng
    font = src.font(int(height * rng.uniform(1.2, 1.5)))
    ascent = font.getmetrics()[0]
    glyphs = []
    for ch in text:
        drawn = fonts.glyph(font, ch)
        if drawn is not None:
            ink, box = drawn
            glyphs.append((ink.astype(np.float32) / 255, max(0, ascent + box[1])))
    if not glyphs:
        return None
    if touching:
        return _lay_out(glyphs, rng, height, True)
    tracking = rng.uniform(0.0, 0.25)
    return _lay_out(glyphs, rng, int(height * tracking) + 1, False)


def sample(src):
    """One line: (ink canvas, label as a list of classes), before paper and find_ink."""
    rng = src.rng
    height = int(rng.integers(18, 56))
    kind = rng.choice(
        ["hand", "hand", "hand", "print", "print", "mixed", "letters", "word", "symbols", "pen", "doodle"],
    )
    touching = rng.random() < 0.35
    if kind in ("hand", "print", "mixed"):
        count = int(rng.choice([1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8]))
        number = [int(d) for d in rng.integers(0, 10, count)]
        if kind == "hand":
            return handwritten(src, number, height, touching), [class_of(d) for d in number]
        text = "".join(map(str, number))
        label = [class_of(d) for d in number]
        if kind == "mixed":  # a letter or symbol among digits
            at = int(rng.integers(0, count + 1))
            other = str(rng.choice(list(LETTERS + SYMBOLS)))
            text, label = text[:at] + other + text[at:], label[:at] + [OTHER] + label[at:]
        return printed(src, text, height, touching), label
    if kind in ("letters", "word", "symbols"):
        pool = {"letters": LETTERS, "word": LETTERS, "symbols": SYMBOLS}[kind]
        length = 1 if kind == "letters" else int(rng.integers(1, 8))
        text = "".join(rng.choice(list(pool), length))
        if kind == "word" and rng.random() < 0.5:
            text = text.upper() if rng.random() < 0.5 else text.lower()
        return printed(src, text, height, touching and kind != "symbols"), [OTHER] * len(text)
    if kind == "pen":
        chars = list(rng.choice(list(synthetic.LETTER_TEMPLATES), int(rng.integers(1, 4))))
        return synthetic.ink_of(synthetic.pen_written(chars, synthetic.LETTER_TEMPLATES, rng)), [OTHER]
    return synthetic.doodle(str(rng.choice(synthetic.DOODLES)), rng, height), [OTHER]


def on_paper(ink, rng):
    """An ink canvas -> a grey picture as a person's photo or scan of it might be: dark on
    light or light on dark, on an underline, in boxes, on ruled or squared paper, shaded,
    blurred and noisy."""
    ink = ink.copy()
    rows, cols = np.nonzero(ink > 0.2)
    if len(rows) == 0:
        return None
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    pen = max(1, int((bottom - top) * rng.uniform(0.03, 0.08)))
    decoration = rng.choice(["none", "none", "underline", "box", "boxes", "ruled", "squared", "baseline"])
    image = Image.fromarray((ink * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    margin = int((bottom - top) * rng.uniform(0.1, 0.4))
    if decoration == "underline":
        y = min(ink.shape[0] - 1, bottom + int(margin * rng.uniform(0, 0.6)))
        draw.line([(max(0, left - margin), y), (right + margin, y)], fill=255, width=pen)
    elif decoration == "baseline":  # written on a line, touching it
        draw.line([(0, bottom), (ink.shape[1], bottom)], fill=255, width=pen)
    elif decoration == "box":
        draw.rectangle([left - margin, top - margin, right + margin, bottom + margin], outline=255, width=pen)
    elif decoration == "boxes":  # a form's row of boxes, about a digit wide each
        step = int((bottom - top) * rng.uniform(0.8, 1.2)) + 2 * margin
        for x in range(left - margin, right + margin, max(step, 4)):
            draw.rectangle([x, top - margin, x + step, bottom + margin], outline=255, width=pen)
    ink = np.asarray(image, dtype=np.float32) / 255
    if decoration in ("ruled", "squared"):
        spacing = int((bottom - top) * rng.uniform(0.5, 1.3)) + 4
        faint = rng.uniform(0.25, 0.6)
        ink = ink.copy()
        lined = (np.arange(ink.shape[0]) + int(rng.integers(spacing))) % spacing == 0
        ink[lined] = np.maximum(ink[lined], faint)
        if decoration == "squared":
            lined = (np.arange(ink.shape[1]) + int(rng.integers(spacing))) % spacing == 0
            ink[:, lined] = np.maximum(ink[:, lined], faint)
    if rng.random() < 0.5:
        blurred = Image.fromarray((ink * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
        ink = np.asarray(blurred, dtype=np.float32) / 255
    paper, colour = rng.uniform(0.6, 1.0), rng.uniform(0.0, 0.45)
    if rng.random() < 0.15:  # light on dark: chalk, a screen
        paper, colour = colour, paper
    grey = paper + (colour - paper) * ink
    if rng.random() < 0.3:  # light falling across the page
        ramp = np.linspace(0, rng.uniform(-0.25, 0.25), grey.shape[1])[None, :]
        grey = grey + ramp + np.linspace(0, rng.uniform(-0.15, 0.15), grey.shape[0])[:, None]
    grey = grey + rng.normal(0, rng.uniform(0, 0.04), grey.shape)
    return np.clip(grey, 0, 1).astype(np.float32)


def make_line(src):
    """One (strip, label) through the same path a picture takes (find_ink, line_input)."""
    while True:
        ink, label = sample(src)
        if ink is None or len(label) > MAX_LABEL:
            continue
        grey = on_paper(ink, src.rng)
        if grey is None:
            continue
        try:
            found = find_ink(grey)
        except DigitsError:
            continue
        return line_input(found)[0], label


def sources(split, arrays):
    """The Sources of one split (see the module's docstring)."""
    if split == "test":
        digits, labels = arrays["x_test"], arrays["y_test"]
    else:
        fit, val = split_validation(arrays["x_train"], arrays["y_train"])
        digits, labels = fit if split == "train" else val
    return Sources(split, digits, labels, fonts.split_fonts(split), SEEDS[split])


CHUNK = 1000  # lines drawn from one seed: the same lines whatever the number of processes


def _chunk(args):
    split, arrays, index, count = args
    src = sources(split, arrays)
    src.rng = np.random.default_rng([SEEDS[split], index])
    x = np.zeros((count, HEIGHT, WIDTH), dtype=np.uint8)
    y = np.zeros((count, MAX_LABEL + 1), dtype=np.int32)
    for i in range(count):
        strip, label = make_line(src)
        x[i] = np.round(strip).astype(np.uint8)
        y[i, 0] = len(label)
        y[i, 1 : 1 + len(label)] = label
    return x, y


def make_lines(split, arrays, count, processes=None, chunk=CHUNK):
    """`count` lines of one split: x (count, 32, 192) uint8, y (count, MAX_LABEL + 1) int32
    (the label's length, then its classes, padded with blanks). Drawn in chunks of `chunk`
    lines, each from its own seed, on every core."""
    arrays = {k: arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    jobs = [(split, arrays, i, min(chunk, count - start)) for i, start in enumerate(range(0, count, chunk))]
    if len(jobs) == 1:
        parts = [_chunk(jobs[0])]
    else:
        # fork: the children share MNIST's arrays and the fonts already found
        with multiprocessing.get_context("fork").Pool(processes or os.cpu_count()) as pool:
            parts = pool.map(_chunk, jobs)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
