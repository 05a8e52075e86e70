"""Lines of ink made by code, to train and test the line reader (what it sees of a line:
digits.read.strip).

make_lines(split, count) draws its training, development and test lines, each source
split so that a test figure is about writing the reader never saw:
- handwritten digits from MNIST: training lines from the training images less the
  validation hold-out (three in ten of its 1s flagged and 7s crossed, as Europe writes
  them: synthetic.continental), development lines from the hold-out, test lines from
  MNIST's test images (written by other people than the training images), in one pen per line
  (PENS: MNIST's own, felt, ballpoint, hard, or scanned small and soft), some bent
  (elastic), some spaced wide; with separators (. , - / :) and spaces in numbers as
  people write them (separated), drawn by hand (hand_separator) or printed;
- printed digits, letters of both cases, symbols and words in the font families of
  that split (digits.make.fonts);
- pen-drawn letters, doodles and shapes (digits.make.synthetic), with the split's seed;
laid out with random gaps (touching and overlapping too), sizes, slants and baselines,
on an underline, in a box or a row of boxes, on ruled or squared paper, dark on light or
light on dark, blurred and noisy, and then put through find_ink as a photo would be.
"""

import multiprocessing
import os
import signal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from digits import DigitsError
from digits.make import fonts, synthetic
from digits.make.data import split_validation
from digits.make.networks import ACCURATE
from digits.make.synthetic import LETTERS, SYMBOLS
from digits.read.images import find_ink
from digits.read.strip import HEIGHT, OTHER, SEPARATORS, WIDTH, class_of, line_input

MAX_LABEL = 12  # the longest label a training line has
# symbols that are "something else" in a line; the separators are classes of their own
NOT_SEPARATORS = "".join(ch for ch in SYMBOLS if ch not in SEPARATORS)
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


def _lay_out(glyphs, rng, height, touching, spaces=None, wide=False):
    """Glyph bitmaps (each with its top offset from the line's top) -> one ink canvas.
    Gaps are random; with `touching` they are zero or negative, `wide` up to a height and
    more; `spaces` (pixels) are added before each glyph."""
    if touching:
        gaps = rng.uniform(-0.2, 0.02, len(glyphs))
    else:
        gaps = rng.uniform(0.02, 1.1 if wide else 0.45, len(glyphs))
    gaps = (gaps * height).astype(int) + (0 if spaces is None else np.asarray(spaces, dtype=int))
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


PENS = ("mnist", "mnist", "felt", "ballpoint", "hard", "soft scan")


def restyle(glyph, pen, rng):
    """A handwritten digit (ink in 0..1, at its size in the line) as another pen or a
    scanner would leave it: a thick felt marker, a thin ballpoint, a hard nib, or scanned
    small and soft (reduced to 8 to 16 rows and enlarged again, as old form scanners did)."""
    h, w = glyph.shape
    image = Image.fromarray(np.round(glyph * 255).astype(np.uint8))
    if pen == "felt":
        image = image.filter(ImageFilter.MaxFilter(3 if h < 36 else 5))
    elif pen == "ballpoint" and h >= 24:
        image = image.filter(ImageFilter.MinFilter(3))
    elif pen == "hard":
        return (glyph > rng.uniform(0.3, 0.6)).astype(np.float32)
    elif pen == "soft scan":
        side = int(rng.integers(8, 17))
        small = image.resize((max(1, round(w * side / h)), side), Image.Resampling.BOX)
        image = small.resize((w, h), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    out = np.asarray(image, dtype=np.float32)
    return out / max(float(out.max()), 1.0)


def elastic(glyph, rng, amount):
    """The glyph bent by a smooth random displacement: a 3x3 mesh whose inner corners
    move by about `amount` of its size."""
    h, w = glyph.shape
    if min(h, w) < 9:  # too narrow for a mesh of 3 x 3
        return glyph
    xs, ys = np.linspace(0, w, 4), np.linspace(0, h, 4)
    corners = np.stack(np.meshgrid(xs, ys), axis=-1)
    corners[1:-1, 1:-1] += rng.normal(0, amount, (2, 2, 2)) * (w, h)
    mesh = [
        ((int(xs[i]), int(ys[j]), int(xs[i + 1]), int(ys[j + 1])),
         (*corners[j, i], *corners[j + 1, i], *corners[j + 1, i + 1], *corners[j, i + 1]))
        for i in range(3) for j in range(3)
    ]
    image = Image.fromarray(glyph, mode="F").transform((w, h), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float32)


def hand_separator(ch, height, pen, rng):
    """A separator written by hand, as (ink, top): a dot, a comma, a dash, a slash or a
    colon, in a pen `pen` pixels wide, placed against digits `height` rows tall. People's
    slashes vary: from half the digits' height to all of it, leaning 12 to 40 degrees, on
    the baseline or higher."""
    dot = max(2, int(pen * rng.uniform(1.0, 1.6)))
    if ch in ".,":
        size = (dot + 2, dot + 2 + (int(0.25 * height) if ch == "," else 0))
    elif ch == ":":
        size = (dot + 2, int(height * rng.uniform(0.45, 0.65)) + dot)
    elif ch == "-":
        size = (int(height * rng.uniform(0.3, 0.6)) + pen, pen + 4)
    else:  # "/"
        tall = int(height * rng.uniform(0.5, 1.0))
        size = (int(tall * np.tan(np.radians(rng.uniform(12, 40)))) + pen, tall)
    image = Image.new("L", size, 0)
    draw = ImageDraw.Draw(image)
    w, h = size
    if ch in ".,":
        draw.ellipse([1, 1, 1 + dot, 1 + dot], fill=255)
        if ch == ",":
            draw.line([(1 + dot * 0.7, 1 + dot * 0.5), (1, h - 1)], fill=255, width=max(1, pen // 2 + 1))
        top = height - dot - int(rng.integers(0, max(1, pen)))
    elif ch == ":":
        draw.ellipse([1, 1, 1 + dot, 1 + dot], fill=255)
        draw.ellipse([1, h - dot - 1, 1 + dot, h - 1], fill=255)
        top = height - h + int(rng.integers(-1, 2))
    elif ch == "-":
        y = h / 2 + rng.normal(0, 0.5)
        draw.line([(pen / 2, y), (w - pen / 2, y + rng.normal(0, 1))], fill=255, width=pen)
        top = int(height * rng.uniform(0.4, 0.6))
    else:
        draw.line([(pen / 2, h - 1), (w - pen / 2, 0)], fill=255, width=pen)
        top = int((height - h) * rng.uniform(0.3, 1))
    ink = np.asarray(image.filter(ImageFilter.GaussianBlur(0.5)), dtype=np.float32) / 255
    return ink / max(float(ink.max()), 1e-6), max(0, top)


def handwritten(src, text, height, touching, wide=False):
    """A number (digits, separators and spaces) in MNIST's handwriting, each digit by
    another writer, all in one pen (PENS), some bent (elastic)."""
    rng = src.rng
    pen = str(rng.choice(PENS))
    stroke = max(2, round(height * rng.uniform(0.08, 0.16)))
    glyphs, spaces, space = [], [], 0
    for ch in text:
        if ch == " ":
            space += int(height * rng.uniform(0.6, 1.2))
            continue
        if ch in SEPARATORS:
            glyphs.append(hand_separator(ch, height, stroke, rng))
        else:
            glyph = _resize(src.mnist_digit(int(ch)), int(height * rng.uniform(0.8, 1.05)), rng.uniform(0.8, 1.25))
            if rng.random() < 0.3:
                glyph = elastic(glyph, rng, 0.05)
            glyph = restyle(glyph, pen, rng)
            top = int(rng.normal(0, 0.05) * height + (height - glyph.shape[0]) * rng.uniform(0.3, 1))
            glyphs.append((glyph, max(0, top)))
        spaces.append(space)
        space = 0
    return _lay_out(glyphs, rng, height, touching, spaces, wide)


def separated(rng):
    """A number as people write one with separators, as text: a decimal (3.14, 0,5), a
    thousands group (1,250, 1.250, 1 250), a date (12/05/2026, 12.05.26, 12-05), a time
    (12:30), a telephone number (555-0123), a negative number (-7)."""
    def digits(n):
        return "".join(str(d) for d in rng.integers(0, 10, n))

    kind = rng.choice(["decimal", "thousands", "date", "time", "phone", "minus"])
    if kind == "decimal":
        return digits(int(rng.integers(1, 4))) + str(rng.choice([".", ","])) + digits(int(rng.integers(1, 4)))
    if kind == "thousands":
        sep = str(rng.choice([",", ".", " "]))
        return digits(int(rng.integers(1, 4))) + "".join(sep + digits(3) for _ in range(int(rng.integers(1, 3))))
    if kind == "date":
        sep = str(rng.choice(["/", ".", "-"]))
        parts = [digits(int(rng.integers(1, 3))), digits(2)] + ([digits(int(rng.choice([2, 4])))] if rng.random() < 0.6 else [])
        return sep.join(parts)
    if kind == "time":
        return digits(int(rng.integers(1, 3))) + ":" + digits(2)
    if kind == "phone":
        return digits(3) + "-" + digits(4) if rng.random() < 0.7 else digits(3) + " " + digits(4)
    return "-" + digits(int(rng.integers(1, 4)))


def printed(src, text, height, touching):
    """Text in one of the split's fonts, glyph by glyph on a common baseline."""
    rng = src.rng
    font = src.font(int(height * rng.uniform(1.2, 1.5)))
    ascent = font.getmetrics()[0]
    glyphs, spaces, space = [], [], 0
    for ch in text:
        if ch == " ":
            space += int(height * rng.uniform(0.4, 0.9))
        elif (drawn := fonts.glyph(font, ch)) is not None:
            ink, box = drawn
            glyphs.append((ink.astype(np.float32) / 255, max(0, ascent + box[1])))
            spaces.append(space)
            space = 0
    if not glyphs:
        return None
    if touching:
        return _lay_out(glyphs, rng, height, True, spaces)
    tracking = rng.uniform(0.0, 0.25)
    return _lay_out(glyphs, rng, int(height * tracking) + 1, False, spaces)


def label_of(text):
    """A line's text -> its classes: digits and separators as themselves, a space as
    nothing (the reader finds spaces by their width), anything else as OTHER."""
    return [class_of(ch) if ch.isdigit() or ch in SEPARATORS else OTHER for ch in text if ch != " "]


def sample(src):
    """One line: (ink canvas, label as a list of classes), before paper and find_ink."""
    rng = src.rng
    height = int(rng.integers(18, 56))
    kind = rng.choice(
        ["hand", "hand", "hand", "print", "print", "mixed", "letters", "word", "symbols", "pen", "doodle",
         "hand separated", "hand separated", "print separated"],
    )
    touching = rng.random() < 0.35
    if kind in ("hand", "print", "mixed"):
        count = int(rng.choice([1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8]))
        text = "".join(str(d) for d in rng.integers(0, 10, count))
        if kind == "hand":
            return handwritten(src, text, height, touching, wide=rng.random() < 0.2), label_of(text)
        if kind == "mixed":  # a letter or symbol among digits
            at = int(rng.integers(0, count + 1))
            text = text[:at] + str(rng.choice(list(LETTERS + NOT_SEPARATORS))) + text[at:]
        return printed(src, text, height, touching), label_of(text)
    if kind in ("hand separated", "print separated"):
        text = separated(rng)
        if kind == "hand separated":
            return handwritten(src, text, height, False, wide=rng.random() < 0.2), label_of(text)
        return printed(src, text, height, False), label_of(text)
    if kind in ("letters", "word", "symbols"):
        pool = {"letters": LETTERS, "word": LETTERS, "symbols": SYMBOLS + SEPARATORS}[kind]
        length = 1 if kind == "letters" else int(rng.integers(1, 8))
        text = "".join(rng.choice(list(pool), length))
        if kind == "word" and rng.random() < 0.5:
            text = text.upper() if rng.random() < 0.5 else text.lower()
        return printed(src, text, height, touching and kind != "symbols"), label_of(text)
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
        if split == "train":  # other people's 1s and 7s, as the digit model learns them
            digits = synthetic.continental(digits, labels, ACCURATE.continental, SEEDS[split])
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
        # fork: the children share MNIST's arrays and the fonts already found; they leave
        # SIGTERM (which ends them when the pool closes) to its default, whatever the parent does
        context = multiprocessing.get_context("fork")
        with context.Pool(processes or os.cpu_count(), signal.signal, (signal.SIGTERM, signal.SIG_DFL)) as pool:
            parts = pool.map(_chunk, jobs)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
