"""Pictures made by code: digits typeset in fonts or drawn as pen strokes, and things that are
not digits (letters, words, scribbles, shapes and other doodles, blank paper).

The not-a-digit detector (digits.make.detector) trains on them, the line generator
(digits.make.lines) draws its pen letters and doodles with them, and the test-set generators
in tests/ draw their printed, pen-stroke and non-digit pictures with them (other seeds).
Type becomes ink in one place, digits.make.fonts.glyph.
"""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digits.make.fonts import glyph, split_fonts


# Pen paths for each digit in a unit square (x right, y down); a spline runs through them.
TEMPLATES = {
    0: [[(0.5, 0.08), (0.25, 0.2), (0.18, 0.5), (0.27, 0.82), (0.5, 0.93),
         (0.73, 0.8), (0.8, 0.5), (0.72, 0.18), (0.5, 0.08)]],
    1: [[(0.35, 0.25), (0.55, 0.08), (0.55, 0.92)]],
    2: [[(0.2, 0.28), (0.35, 0.1), (0.6, 0.08), (0.75, 0.25), (0.68, 0.45),
         (0.4, 0.7), (0.18, 0.9), (0.5, 0.88), (0.85, 0.9)]],
    3: [[(0.2, 0.15), (0.5, 0.07), (0.75, 0.2), (0.7, 0.4), (0.45, 0.5),
         (0.75, 0.6), (0.78, 0.8), (0.5, 0.93), (0.2, 0.85)]],
    4: [[(0.6, 0.08), (0.4, 0.4), (0.18, 0.65), (0.85, 0.65)], [(0.65, 0.35), (0.65, 0.93)]],
    5: [[(0.78, 0.1), (0.35, 0.1), (0.28, 0.45), (0.55, 0.4), (0.78, 0.55),
         (0.78, 0.78), (0.5, 0.93), (0.2, 0.85)]],
    6: [[(0.7, 0.08), (0.4, 0.3), (0.25, 0.6), (0.3, 0.85), (0.5, 0.93),
         (0.72, 0.8), (0.7, 0.6), (0.5, 0.5), (0.28, 0.62)]],
    7: [[(0.15, 0.1), (0.85, 0.1), (0.6, 0.5), (0.42, 0.92)]],
    8: [[(0.5, 0.5), (0.25, 0.33), (0.3, 0.12), (0.5, 0.07), (0.7, 0.12), (0.75, 0.33), (0.5, 0.5),
         (0.22, 0.7), (0.3, 0.9), (0.5, 0.95), (0.7, 0.9), (0.78, 0.7), (0.5, 0.5)]],
    9: [[(0.72, 0.3), (0.55, 0.1), (0.3, 0.15), (0.25, 0.35), (0.45, 0.5),
         (0.7, 0.4), (0.72, 0.3), (0.68, 0.6), (0.6, 0.93)]],
}


def catmull_rom(points, steps=12):
    """A smooth curve through the points, as a dense list of (x, y)."""
    p = np.array(points, dtype=float)
    p = np.vstack([p[0], p, p[-1]])
    curve = []
    for i in range(1, len(p) - 2):
        for t in np.linspace(0, 1, steps, endpoint=False):
            t2, t3 = t * t, t * t * t
            curve.append(
                0.5
                * (
                    (2 * p[i])
                    + (-p[i - 1] + p[i + 1]) * t
                    + (2 * p[i - 1] - 5 * p[i] + 4 * p[i + 1] - p[i + 2]) * t2
                    + (-p[i - 1] + 3 * p[i] - 3 * p[i + 1] + p[i + 2]) * t3
                )
            )
    curve.append(p[-2])
    return np.array(curve)


def colours(rng):
    """(ink, paper) as RGB tuples: dark on light mostly, sometimes light on dark or coloured."""
    kind = rng.choice(["black-on-white", "blue-on-cream", "white-on-black", "chalk", "grey"])
    return {
        "black-on-white": ((20, 20, 25), (250, 250, 248)),
        "blue-on-cream": ((30, 50, 160), (245, 235, 200)),
        "white-on-black": ((245, 245, 245), (10, 10, 10)),
        "chalk": ((225, 230, 220), (40, 70, 50)),
        "grey": ((90, 90, 90), (215, 215, 215)),
    }[kind]


# Letters that look like no digit in any common hand or type (O, I, l, S, Z, B, b, g, q, G
# and D can look like 0, 1, 5, 2, 8, 6 and 9), and symbols: what the generators draw as
# "something else".
LETTERS = "ACEFHKMNPRTUVWXYacefhkmnprtuvwxy"
SYMBOLS = "+=*/%#@&?!<>~^$()[]{}:;"
# The shapes shape() draws, and every doodle doodle() draws as a line's "something else"
SHAPES = ("star", "cross", "triangle", "square", "arrow", "hash", "spiral")
DOODLES = ("scribble", *SHAPES, "zigzag", "heart", "hatching", "wave")


# Pen paths for a few letters, as TEMPLATES has them for digits
LETTER_TEMPLATES = {
    "U": [[(0.2, 0.1), (0.22, 0.7), (0.5, 0.92), (0.78, 0.7), (0.8, 0.1)]],
    "W": [[(0.08, 0.1), (0.28, 0.9), (0.5, 0.35), (0.72, 0.9), (0.92, 0.1)]],
    "V": [[(0.15, 0.1), (0.5, 0.9), (0.85, 0.1)]],
    "X": [[(0.15, 0.1), (0.85, 0.9)], [(0.85, 0.1), (0.15, 0.9)]],
    "N": [[(0.2, 0.9), (0.2, 0.1), (0.8, 0.9), (0.8, 0.1)]],
    "M": [[(0.12, 0.9), (0.18, 0.1), (0.5, 0.6), (0.82, 0.1), (0.88, 0.9)]],
    "H": [[(0.2, 0.1), (0.2, 0.9)], [(0.8, 0.1), (0.8, 0.9)], [(0.2, 0.5), (0.8, 0.5)]],
    "K": [[(0.2, 0.1), (0.2, 0.9)], [(0.8, 0.1), (0.22, 0.55), (0.8, 0.9)]],
    "A": [[(0.15, 0.9), (0.5, 0.1), (0.85, 0.9)], [(0.3, 0.6), (0.7, 0.6)]],
    "E": [[(0.8, 0.1), (0.2, 0.1), (0.2, 0.9), (0.8, 0.9)], [(0.2, 0.5), (0.65, 0.5)]],
    "F": [[(0.8, 0.1), (0.25, 0.1), (0.25, 0.9)], [(0.25, 0.5), (0.65, 0.5)]],
    "R": [[(0.25, 0.9), (0.25, 0.1), (0.7, 0.15), (0.72, 0.4), (0.25, 0.5), (0.8, 0.9)]],
    "C": [[(0.8, 0.2), (0.55, 0.08), (0.25, 0.25), (0.2, 0.6), (0.4, 0.9), (0.8, 0.82)]],
    "e": [[(0.2, 0.6), (0.8, 0.6), (0.7, 0.35), (0.45, 0.3), (0.22, 0.55), (0.35, 0.88), (0.8, 0.85)]],
    "m": [[(0.1, 0.9), (0.1, 0.4), (0.3, 0.35), (0.45, 0.5), (0.45, 0.9)],
          [(0.45, 0.5), (0.65, 0.35), (0.85, 0.5), (0.85, 0.9)]],
    "w": [[(0.1, 0.35), (0.3, 0.9), (0.5, 0.5), (0.7, 0.9), (0.9, 0.35)]],
}


WORDS = ["cat", "hello", "MNIST", "word", "Keras", "test", "note", "yes", "AREA", "FACE",
         "map", "tree", "Numpy", "pen", "WHY", "rain", "ink", "fax"]


def pen_paths(paths, rng, scale, offset, slant=0.0, squash=1.0, jitter=0.025):
    """Template pen paths (unit square) -> image coordinates, jittered like a hand."""
    out = []
    for path in paths:
        points = np.array(path) + rng.normal(0, jitter, (len(path), 2))
        curve = catmull_rom(points) if len(path) > 2 else points
        x = (curve[:, 0] - 0.5) * squash + 0.5 + slant * (0.5 - curve[:, 1])
        out.append(np.stack([x * scale + offset[0], curve[:, 1] * scale + offset[1]], axis=1))
    return out


def stroke(draw, xy, ink, pen):
    draw.line([tuple(p) for p in xy], fill=ink, width=pen, joint="curve")
    for end in (xy[0], xy[-1]):
        draw.ellipse([*(end - pen / 2), *(end + pen / 2)], fill=ink)


def _stamp(canvas, ink, top, left):
    """Ink onto a canvas (the brighter wins), clipped to it."""
    ys, xs = max(0, top), max(0, left)
    ye, xe = min(canvas.shape[0], top + ink.shape[0]), min(canvas.shape[1], left + ink.shape[1])
    if ye > ys and xe > xs:
        region = canvas[ys:ye, xs:xe]
        np.maximum(region, ink[ys - top : ye - top, xs - left : xe - left], out=region)


def typeset(text, rng, size=None, kerning=0.0, split="train"):
    """Text in one of the split's fonts (digits.make.fonts), dark or light, on a canvas with a
    margin; `kerning` pulls each character that share of its advance into the next."""
    fonts = split_fonts(split)
    font = ImageFont.truetype(fonts[int(rng.integers(len(fonts)))], size or int(rng.integers(28, 110)))
    ink, paper = colours(rng)
    ascent = font.getmetrics()[0]
    cells = [(glyph(font, ch), font.getbbox(ch)[2] + 4) for ch in text]
    advances = [int(width * (1 - kerning)) for _, width in cells]
    mask = np.zeros((font.size * 3, sum(advances) + font.size * 2), dtype=np.uint8)
    x = font.size
    for (g, width), advance in zip(cells, advances):
        # each character is clipped to its own cell: from 2 pixels before its pen position
        # to 2 after its box, two font sizes tall
        cell = np.zeros((font.size * 2, width), dtype=np.uint8)
        if g is not None:
            _stamp(cell, g[0], ascent + g[1][1] - 1, g[1][0] + 1)
        _stamp(mask, cell, font.size // 2, x)
        x += advance
    coverage = mask.astype(np.float32)[..., None] / 255
    rgb = (1 - coverage) * np.array(paper) + coverage * np.array(ink)
    image = Image.fromarray(rgb.astype(np.uint8))
    return image.rotate(rng.uniform(-4, 4), expand=True, fillcolor=paper)


def pen_written(chars, templates, rng):
    """Characters drawn as pen strokes from templates, left to right."""
    size = int(rng.integers(40, 120))
    ink, paper = colours(rng)
    advance = size * rng.uniform(0.8, 1.05)
    canvas = Image.new("RGB", (int(advance * len(chars) + size), int(size * 1.6)), paper)
    draw = ImageDraw.Draw(canvas)
    pen = max(2, int(size * rng.uniform(0.06, 0.12)))
    slant = rng.uniform(-0.25, 0.25)
    for i, ch in enumerate(chars):
        offset = (size * 0.5 + i * advance, size * 0.3 + rng.normal(0, 0.04) * size)
        for xy in pen_paths(templates[ch], rng, size * 0.9, offset, slant, rng.uniform(0.8, 1.05)):
            stroke(draw, xy, ink, pen)
    return canvas


def scribble(rng):
    side = int(rng.integers(80, 300))
    ink, paper = colours(rng)
    canvas = Image.new("RGB", (side, side), paper)
    points = rng.uniform(0.1, 0.9, (int(rng.integers(6, 16)), 2))
    stroke(ImageDraw.Draw(canvas), catmull_rom(points) * side, ink, max(2, int(side * rng.uniform(0.02, 0.07))))
    return canvas


def shape(rng, kind):
    side = int(rng.integers(80, 300))
    ink, paper = colours(rng)
    canvas = Image.new("RGB", (side, side), paper)
    draw = ImageDraw.Draw(canvas)
    pen = max(2, int(side * rng.uniform(0.03, 0.08)))
    c, r = side / 2, side * rng.uniform(0.28, 0.42)
    if kind == "star":
        angles = np.linspace(-np.pi / 2, 3.5 * np.pi, 11)
        radii = np.where(np.arange(11) % 2 == 0, r, r * 0.45)
        xy = [(c + q * np.cos(a), c + q * np.sin(a)) for q, a in zip(radii, angles)]
        draw.line(xy, fill=ink, width=pen, joint="curve")
    elif kind == "cross":
        draw.line([(c - r, c), (c + r, c)], fill=ink, width=pen)
        draw.line([(c, c - r), (c, c + r)], fill=ink, width=pen)
    elif kind == "triangle":
        draw.polygon([(c, c - r), (c + r, c + r * 0.8), (c - r, c + r * 0.8)], outline=ink, width=pen)
    elif kind == "square":
        draw.rectangle([c - r, c - r, c + r, c + r], outline=ink, width=pen)
    elif kind == "arrow":
        draw.line([(c - r, c), (c + r, c)], fill=ink, width=pen)
        draw.line([(c + r * 0.4, c - r * 0.5), (c + r, c), (c + r * 0.4, c + r * 0.5)], fill=ink, width=pen)
    elif kind == "hash":
        for k in (-0.35, 0.35):
            draw.line([(c + k * r, c - r), (c + k * r, c + r)], fill=ink, width=pen)
            draw.line([(c - r, c + k * r), (c + r, c + k * r)], fill=ink, width=pen)
    else:  # spiral
        t = np.linspace(0, 4 * np.pi, 200)
        xy = np.stack([c + r * t / (4 * np.pi) * np.cos(t), c + r * t / (4 * np.pi) * np.sin(t)], 1)
        draw.line([tuple(p) for p in xy], fill=ink, width=pen, joint="curve")
    return canvas.rotate(rng.uniform(-20, 20), fillcolor=paper)


def blank(rng):
    width, height = int(rng.integers(60, 600)), int(rng.integers(60, 600))
    paper = np.array(colours(rng)[1], dtype=np.float32)
    page = np.ones((height, width, 3)) * paper + rng.normal(0, rng.uniform(0, 8), (height, width, 1))
    if rng.random() < 0.3 and height > 80:  # ruled
        for row in range(10, height, 25):
            page[row : row + 2] = [150, 180, 230]
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))


def ink_of(image):
    """A picture -> its ink in 0..1, the paper being the level of its top and bottom rows
    (as digits.read.images.find_ink will see its polarity)."""
    grey = np.asarray(image.convert("L"), dtype=np.float32) / 255
    paper = np.median(np.concatenate([grey[0], grey[-1]]))
    return np.clip(np.abs(grey - paper) / 0.5, 0, 1)


def doodle(kind, rng, height):
    """One of DOODLES as ink in 0..1, for a line `height` pixels tall: a scribble or a
    shape, or a zigzag, wave, heart or hatching up to three heights tall and four wide."""
    if kind == "scribble":
        return ink_of(scribble(rng))
    if kind in SHAPES:
        return ink_of(shape(rng, kind))
    side = int(height * rng.uniform(1.2, 3))
    width = side * (int(rng.integers(2, 5)) if kind in ("zigzag", "wave") else 1)
    image = Image.new("L", (width, side), 0)
    draw = ImageDraw.Draw(image)
    pen = max(2, int(side * rng.uniform(0.04, 0.1)))
    if kind == "zigzag":
        n = int(rng.integers(4, 12))
        xs = np.linspace(0.05, 0.95, n) * width
        ys = np.where(np.arange(n) % 2, 0.15, 0.85) * side + rng.normal(0, 0.05 * side, n)
        draw.line(list(zip(xs, ys)), fill=255, width=pen, joint="curve")
    elif kind == "wave":
        t = np.linspace(0, 2 * np.pi * rng.uniform(1.5, 4), 120)
        xs = np.linspace(0.05, 0.95, 120) * width
        draw.line(list(zip(xs, side * (0.5 + 0.35 * np.sin(t)))), fill=255, width=pen, joint="curve")
    elif kind == "heart":
        t = np.linspace(0, 2 * np.pi, 100)
        xs = 16 * np.sin(t) ** 3
        ys = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        draw.line(list(zip(side / 2 + xs * side / 40, side / 2 + ys * side / 40)), fill=255, width=pen)
    else:  # hatching
        step = max(pen * 2, int(side * rng.uniform(0.1, 0.25)))
        for k in range(-side, side, step):
            draw.line([(k, 0), (k + side, side)], fill=255, width=pen)
            if rng.random() < 0.7:
                draw.line([(k + side, 0), (k, side)], fill=255, width=pen)
    return np.asarray(image.rotate(rng.uniform(-15, 15)), dtype=np.float32) / 255


def skeleton(mask):
    """A boolean image thinned to lines one pixel wide that keep its shape (Zhang and Suen's
    thinning, 1984)."""
    m = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            # the eight neighbours, clockwise from the one above
            n = [m[:-2, 1:-1], m[:-2, 2:], m[1:-1, 2:], m[2:, 2:], m[2:, 1:-1], m[2:, :-2], m[1:-1, :-2], m[:-2, :-2]]
            count = sum(n)
            crossings = sum((n[i] == 0) & (n[(i + 1) % 8] == 1) for i in range(8))
            if step == 0:
                open_side = (n[0] * n[2] * n[4] == 0) & (n[2] * n[4] * n[6] == 0)
            else:
                open_side = (n[0] * n[2] * n[6] == 0) & (n[0] * n[4] * n[6] == 0)
            drop = (m[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (crossings == 1) & open_side
            if drop.any():
                m[1:-1, 1:-1][drop] = 0
                changed = True
        if not changed:
            return m[1:-1, 1:-1].astype(bool)


def continental(images, labels, share, seed):
    """MNIST's digits (uint8, n x 28 x 28) with a `share` of its 1s given a long flag and of
    its 7s a bar through the stem, as much of Europe writes them (MNIST's American writers
    seldom did); the rest untouched. A new array; the same seed marks the same digits.

    The flag runs down and left from the top of the 1, a quarter to two fifths of its height
    long, at 30 to 55 degrees below the horizontal; the bar crosses the 7 a little below
    its middle, a third to a half of its height wide. Both in the digit's own stroke width
    and brightness, drawn four times larger and reduced, so their edges are as soft as
    MNIST's.
    """
    rng = np.random.default_rng(seed)
    out = images.copy()
    for digit in (1, 7):
        which = np.nonzero(labels == digit)[0]
        for i in rng.choice(which, int(round(share * len(which))), replace=False):
            out[i] = _with_stroke(images[i], digit, rng)
    return out


def _with_stroke(image, digit, rng):
    ink = image > 127
    rows = np.nonzero(ink.any(axis=1))[0]
    if len(rows) < 8:
        return image
    top, bottom = rows[0], rows[-1]
    height = bottom - top + 1
    widths = ink[rows].sum(axis=1)
    pen = float(np.clip(np.median(widths[widths > 0]), 1.5, 4.0))
    brightness = int(np.percentile(image[ink], 90))
    if digit == 1:
        start = np.array([np.nonzero(ink[top])[0].mean(), top + 0.5])
        angle = np.radians(rng.uniform(30, 55))
        length = height * rng.uniform(0.25, 0.42)
        end = start + length * np.array([-np.cos(angle), np.sin(angle)])
    else:
        row = int(top + height * rng.uniform(0.5, 0.65))
        middle = np.nonzero(ink[row])[0].mean() if ink[row].any() else 13.5
        half = height * rng.uniform(0.17, 0.25)
        tilt = rng.normal(0, 0.6)
        start = np.array([middle - half, row + 0.5 + tilt])
        end = np.array([middle + half, row + 0.5 - tilt])
    scale = 4
    canvas = Image.new("L", (28 * scale, 28 * scale), 0)
    stroke(ImageDraw.Draw(canvas), np.clip([start, end], 0.5, 27.5) * scale, brightness, int(pen * scale))
    drawn = np.asarray(canvas.resize((28, 28), Image.Resampling.BOX))
    return np.maximum(image, drawn)
