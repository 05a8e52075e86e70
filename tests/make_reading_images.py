"""Make the test sets for reading whole numbers and for saying "not a digit".

    python tests/make_reading_images.py            # rewrites tests/number_images/, tests/nondigit_images/
    python tests/make_reading_images.py --dev DIR  # a development set: other seeds, and
                                                   # MNIST's training handwriting; for tuning

numbers    <number>-<family>-<n>.<format>, 2 to 6 digits, leading zeros kept
  handwritten  real handwriting (MNIST digits, a different writer for each digit) side by
               side at varied sizes, gaps and baselines, a quarter of them touching, in
               dark ink on plain paper
  scanned      the same, scanned: tinted paper, noise, blur and JPEG compression
  photographed the same, small on a 1600x1200 sheet under uneven light
  printed      typeset in the 14 fonts of tests/make_digit_images.py, some tightly kerned
  strokes      pen strokes through the digit templates of tests/make_digit_images.py
nondigits  <kind>-<n>.<format>
  letters      one letter, typeset or drawn as pen strokes (not those that look like digits:
               O, I, l, S, Z, B, G, b, g, q, ...)
  words        a short word, typeset or in pen strokes
  scribbles    random scrawls of a pen
  shapes       stars, crosses, triangles, squares, arrows, hash signs, spirals
  blank        empty paper: white, tinted, noisy, ruled
The test sets use MNIST's test handwriting; --dev uses its training handwriting and other
seeds. Seeded: the same files every run.
"""

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from make_digit_images import ink_mask
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script, too
from digits.synthetic import (
    LETTER_TEMPLATES,
    LETTERS,
    TEMPLATES,
    WORDS,
    blank,
    colours,
    pen_written,
    scribble,
    shape,
    typeset,
)

HERE = Path(__file__).resolve().parent
FORMATS = ["png", "jpg", "webp", "png", "jpg"]


def mnist(split):
    """Handwritten digits by label: the test images, or for --dev the training images."""
    with np.load(HERE.parent / "data" / "mnist.npz") as data:
        x, y = (data["x_test"], data["y_test"]) if split == "test" else (data["x_train"], data["y_train"])
    return {d: x[y == d] for d in range(10)}


def finish(image, rng, kind):
    """Paper effects: a scan's noise, blur and JPEG, or a photo's uneven light."""
    if kind == "scanned":
        noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, rng.uniform(3, 12), (image.height, image.width, 1))
        image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
        if rng.random() < 0.5:
            image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=int(rng.integers(40, 85)))
        return Image.open(buffer).convert("RGB")
    if kind == "photographed":
        sheet = Image.new("RGB", (1600, 1200), (245, 242, 232))
        sheet.paste(image, (int(rng.integers(0, 1600 - image.width)), int(rng.integers(0, 1200 - image.height))))
        light = np.linspace(rng.uniform(0.6, 0.85), 1.0, 1600)[None, :, None]
        if rng.random() < 0.5:
            light = light[:, ::-1]
        return Image.fromarray((np.asarray(sheet, dtype=np.float32) * light).astype(np.uint8))
    return image


def handwritten_number(text, writers, rng, kind):
    """MNIST digits side by side: each digit a different writer, size and height."""
    height = int(rng.integers(36, 110))
    touching = rng.random() < 0.25
    tiles, x, placed = [], 0, []
    for ch in text:
        pool = writers[int(ch)]
        side = int(height * rng.uniform(0.85, 1.15))
        mask = ink_mask(pool[int(rng.integers(len(pool)))], side)[..., 0]
        # an MNIST digit fills the middle 20 of 28 pixels; gaps are between those boxes
        gap = rng.uniform(-0.1, 0.0) if touching else rng.uniform(0.05, 0.45)
        placed.append((x, int(rng.normal(0, 0.06) * height), mask))
        x += int(side * (20 / 28 + gap))
    width = x + 2 * height
    canvas = np.zeros((3 * height, width), dtype=np.float32)
    for left, dy, mask in placed:
        top = height + dy - mask.shape[0] // 2 + height // 2
        top = int(np.clip(top, 0, canvas.shape[0] - mask.shape[0]))
        region = canvas[top : top + mask.shape[0], left + height // 2 : left + height // 2 + mask.shape[1]]
        np.maximum(region, mask[: region.shape[0], : region.shape[1]], out=region)
    ink, paper = colours(rng)
    if kind != "handwritten" and np.mean(paper) < 128:  # scans and photos: dark ink on paper
        ink, paper = paper, ink
    if kind == "photographed":  # written on the sheet itself
        paper = (245, 242, 232)
    rgb = (1 - canvas[..., None]) * np.array(paper) + canvas[..., None] * np.array(ink)
    return finish(Image.fromarray(rgb.astype(np.uint8)), rng, kind)


def save(image, name, folder, n, rng):
    fmt = FORMATS[n % len(FORMATS)]
    options = {"quality": int(rng.integers(60, 95))} if fmt in ("jpg", "webp") else {}
    image.convert("RGB").save(folder / f"{name}-{n:03d}.{fmt}", **options)


def numbers(folder, rng, writers, per_family=30):
    n = 0
    for family in ("handwritten", "scanned", "photographed", "printed", "strokes"):
        for _ in range(per_family):
            length = int(rng.integers(2, 7))
            text = "".join(str(d) for d in rng.integers(0, 10, length))
            if family in ("handwritten", "scanned", "photographed"):
                image = handwritten_number(text, writers, rng, family)
            elif family == "printed":
                image = typeset(text, rng, kerning=rng.choice([0.0, 0.0, 0.1, 0.18]))
            else:
                image = pen_written([int(c) for c in text], TEMPLATES, rng)
            save(image, f"{text}-{family}", folder, n, rng)
            n += 1


def nondigits(folder, rng, per_kind=30):
    n = 0
    for kind in ("letters", "words", "scribbles", "shapes", "blank"):
        for k in range(per_kind if kind != "blank" else per_kind // 2):
            if kind == "letters":
                if k % 2:
                    image = pen_written([rng.choice(list(LETTER_TEMPLATES))], LETTER_TEMPLATES, rng)
                else:
                    image = typeset(rng.choice(list(LETTERS)), rng)
            elif kind == "words":
                if k % 2:
                    word = "".join(rng.choice(list(LETTER_TEMPLATES), int(rng.integers(2, 5))))
                    image = pen_written(list(word), LETTER_TEMPLATES, rng)
                else:
                    image = typeset(str(rng.choice(WORDS)), rng)
            elif kind == "scribbles":
                image = scribble(rng)
            elif kind == "shapes":
                image = shape(rng, ["star", "cross", "triangle", "square", "arrow", "hash", "spiral"][k % 7])
            else:
                image = blank(rng)
            save(image, kind, folder, n, rng)
            n += 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", metavar="DIR", help="write a development set into DIR instead")
    args = parser.parse_args(argv)
    base = Path(args.dev) if args.dev else HERE
    seed = 7 if args.dev else 2027
    for name, make in (("number_images", numbers), ("nondigit_images", nondigits)):
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        rng = np.random.default_rng(seed)
        if make is numbers:
            make(folder, rng, mnist("train" if args.dev else "test"))
        else:
            make(folder, rng)
        print(f"wrote {len(list(folder.iterdir()))} images to {folder}")


if __name__ == "__main__":
    main()
