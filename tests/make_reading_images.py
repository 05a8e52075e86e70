"""Make the test sets for reading whole numbers and for saying "not a digit".

    python tests/make_reading_images.py            # rewrites tests/number_images/, tests/nondigit_images/
    python tests/make_reading_images.py --dev DIR  # a development set: other seeds, and
                                                   # MNIST's training handwriting; for tuning
    python tests/make_reading_images.py --dev DIR --per-family 100   # a bigger one

numbers    <number>-<family>-<n>.<format>, 2 to 6 digits, leading zeros kept
  handwritten  real handwriting (MNIST digits, a different writer for each digit) side by
               side at varied sizes, gaps and baselines, a quarter of them touching, in
               dark ink on plain paper
  scanned      the same, scanned: tinted paper, noise, blur and JPEG compression
  photographed the same, small on a 1600x1200 sheet under uneven light
  printed      typeset in the test split's font families (digits.make.fonts), some tightly kerned
  strokes      pen strokes through the digit templates of tests/make_digit_images.py
  touching     handwritten, every digit touching or overlapping its neighbours
  lined        handwritten or printed on an underline, a ruled line, or ruled or squared paper
  boxed        handwritten or printed in a box, or a form's row of boxes
  pens         handwritten in other pens and on other paper: a thick felt marker, a thin or
               hard pen, blue on brown paper, pencil on a yellow pad; some spaced wide
  softscan     handwritten, each digit reduced to 8 to 16 pixels and enlarged again, scanned
  separators   numbers with separators, handwritten or printed: 3.14, 1,250, 1 250, 12/05/2026,
               12.05, 12:30, 555-0123, -7 (the name codes them: . p  , c  - m  / s  : k  space _)
  lines        two or three numbers, one under another (the name codes a line break as n)
  finepen      handwritten at a photo's size in a fine pen (a ballpoint, a gel pen, a pencil):
               each digit's skeleton traced with a pen 3.5% to 8.5% of its height across, as
               people's pens leave them, where MNIST's strokes are about 12%; some spaced wide
nondigits  <kind>-<n>.<format>
  letters      one letter of either case, typeset in the test split's families or drawn as
               pen strokes (not those that look like digits: O, I, l, S, Z, B, G, b, g, q, ...)
  words        a short word, typeset or in pen strokes
  symbols      one to three symbols or punctuation marks, typeset
  scribbles    random scrawls of a pen
  shapes       stars, crosses, triangles, squares, arrows, hash signs, spirals
  blank        empty paper: white, tinted, noisy, ruled
The test sets use MNIST's test handwriting and the test split's font families; --dev uses
the validation hold-out's handwriting, the development split's families and other seeds.
None of them is drawn by digits.make.lines, which makes the line reader's training lines;
the pen letters, scribbles and shapes come from digits.make.synthetic, as some of its are
(other seeds). Seeded: the same files every run.
"""

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from make_digit_images import ink_mask, mnist_handwriting
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script, too
from benchmarks.reading import label_name
from digits.make.synthetic import (
    LETTER_TEMPLATES,
    LETTERS,
    SHAPES,
    SYMBOLS,
    TEMPLATES,
    WORDS,
    blank,
    colours,
    ink_of,
    pen_written,
    scribble,
    shape,
    skeleton,
    typeset,
)

HERE = Path(__file__).resolve().parent
FORMATS = ["png", "jpg", "webp", "png", "jpg"]


def mnist(split):
    """Handwritten digits by label: the test images, or for --dev the validation hold-out."""
    x, y = mnist_handwriting(split)
    return {d: x[y == d] for d in range(10)}


def decorate(image, rng, kind):
    """Lines and boxes drawn around the ink of a picture, in the ink's colour: "lined" on an
    underline, a ruled line it stands on, or ruled or squared paper; "boxed" in a box or a
    form's row of boxes."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    paper = np.median(np.concatenate([grey[0], grey[-1]]))
    rows, cols = np.nonzero(np.abs(grey - paper) > 60)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    rgb = np.asarray(image.convert("RGB"))
    ink = tuple(int(v) for v in rgb[rows[len(rows) // 2], cols[len(cols) // 2]])
    height = bottom - top
    pen = max(1, int(height * rng.uniform(0.03, 0.07)))
    draw_on = image.convert("RGB")
    draw = ImageDraw.Draw(draw_on)
    style = rng.choice(["underline", "stands", "ruled", "squared"] if kind == "lined" else ["box", "boxes"])
    pad = int(height * rng.uniform(0.15, 0.35))
    if style == "underline":
        y = bottom + int(pad * rng.uniform(0.2, 0.8))
        draw.line([(left - pad, y), (right + pad, y)], fill=ink, width=pen)
    elif style == "stands":
        draw.line([(0, bottom), (image.width, bottom)], fill=ink, width=pen)
    elif style in ("ruled", "squared"):
        faint = tuple(int(0.5 * a + 0.5 * b) for a, b in zip(ink, (int(paper),) * 3))
        spacing = int(height * rng.uniform(0.6, 1.2)) + 3
        for y in range(int(rng.integers(spacing)), image.height, spacing):
            draw.line([(0, y), (image.width, y)], fill=faint, width=max(1, pen // 2))
        if style == "squared":
            for x in range(int(rng.integers(spacing)), image.width, spacing):
                draw.line([(x, 0), (x, image.height)], fill=faint, width=max(1, pen // 2))
    elif style == "box":
        draw.rectangle([left - pad, top - pad, right + pad, bottom + pad], outline=ink, width=pen)
    else:
        count = int(rng.integers(2, 7))
        step = (right - left + 2 * pad) / count
        for i in range(count):
            x = left - pad + i * step
            draw.rectangle([x, top - pad, x + step, bottom + pad], outline=ink, width=pen)
    return draw_on


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


def separator_mask(ch, side, pen, rng):
    """A separator as a person writes it beside digits `side` pixels tall: ink in [0, 1]
    and the row of its top (a blob for a dot, a blob and tail for a comma, strokes else)."""
    w = {".": 0.3, ",": 0.3, ":": 0.3, "-": 0.55, "/": 0.6}[ch]
    image = Image.new("L", (int(side * w) + pen, side), 0)
    draw = ImageDraw.Draw(image)
    r = pen * rng.uniform(0.6, 0.9)
    cx = image.width / 2
    if ch in ".,:":
        low = side * rng.uniform(0.68, 0.78)
        draw.ellipse([cx - r, low - r, cx + r, low + r], fill=255)
        if ch == ",":
            draw.line([(cx + r * 0.5, low), (cx - r * 1.5, low + side * 0.18)], fill=255, width=max(1, pen // 2))
        if ch == ":":
            high = side * rng.uniform(0.3, 0.4)
            draw.ellipse([cx - r, high - r, cx + r, high + r], fill=255)
    elif ch == "-":
        y = side * rng.uniform(0.4, 0.5)
        draw.line([(pen, y), (image.width - pen, y + rng.normal(0, pen / 2))], fill=255, width=pen)
    else:
        draw.line([(pen, side * 0.82), (image.width - pen, side * 0.12)], fill=255, width=pen)
    return np.asarray(image, dtype=np.float32) / 255


def pen_effect(canvas, rng, height):
    """Ink as another pen leaves it: "felt" thick, "fine" thin, "hard" without grey edges."""
    kind = rng.choice(["felt", "fine", "hard"])
    image = Image.fromarray((canvas * 255).astype(np.uint8))
    if kind == "felt":
        blurred = np.asarray(image.filter(ImageFilter.GaussianBlur(height * rng.uniform(0.02, 0.04))), dtype=np.float32)
        return np.clip(blurred / 255 * 3, 0, 1)
    if kind == "fine":
        return np.clip((canvas - 0.75) * 4, 0, 1)
    return (canvas > rng.uniform(0.35, 0.55)).astype(np.float32)


def fine_pen(mask, rng):
    """A digit's ink as a fine pen leaves it at a photo's size: its skeleton, at twice the
    size, traced with a round pen 2.5% to 6% of its side across (of MNIST's 28-pixel
    frame: 3.5% to 8.5% of the digit's height), whose width swells and thins along the
    stroke (a ballpoint's pressure), then reduced again."""
    side = mask.shape[0]
    big = Image.fromarray((mask * 255).astype(np.uint8)).resize((2 * side, 2 * side), Image.Resampling.BICUBIC)
    rows, cols = np.nonzero(skeleton(np.asarray(big) > 127))
    width = 2 * side * rng.uniform(0.025, 0.06)
    pressure = 1 + 0.25 * np.sin(rows / side * rng.uniform(2, 6) + cols / side * rng.uniform(2, 6))
    image = Image.new("L", big.size, 0)
    draw = ImageDraw.Draw(image)
    for y, x, p in zip(rows, cols, pressure):
        r = max(0.5, width * p / 2)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return np.asarray(image.resize((side, side), Image.Resampling.BOX), dtype=np.float32) / 255


def soft(mask, rng):
    """A digit's ink reduced to 8 to 16 pixels and enlarged again, as an old scanner did."""
    small = int(rng.integers(8, 17))
    image = Image.fromarray((mask * 255).astype(np.uint8)).resize((small, small), Image.Resampling.BOX)
    return np.asarray(image.resize(mask.shape[::-1], Image.Resampling.BICUBIC), dtype=np.float32) / 255


def handwritten_ink(text, writers, rng, height, touching=False, wide=False, soften=False, fine=False):
    """MNIST digits (and separators) side by side, each digit a different writer, size and
    height, `soften`ed or in a `fine` pen; a space is a gap of about a digit: ink in [0, 1]."""
    pen = max(2, int(height * 0.11))
    x, placed = 0, []
    for ch in text:
        if ch == " ":
            x += int(height * rng.uniform(0.6, 1.0))
            continue
        side = int(height * rng.uniform(0.85, 1.15))
        if ch.isdigit():
            pool = writers[int(ch)]
            mask = ink_mask(pool[int(rng.integers(len(pool)))], side)[..., 0]
            if soften:
                mask = soft(mask, rng)
            if fine:
                mask = fine_pen(mask, rng)
            # an MNIST digit fills the middle 20 of 28 pixels; gaps are between those boxes
            gap = rng.uniform(-0.2, -0.02) if touching else rng.uniform(0.3, 0.7) if wide else rng.uniform(0.05, 0.45)
            placed.append((x, int(rng.normal(0, 0.06) * height), mask))
            x += int(side * (20 / 28 + gap))
        else:
            mask = separator_mask(ch, int(side * 20 / 28), pen, rng)
            placed.append((x + int(side * 0.1), int(side * 4 / 28), mask))
            x += mask.shape[1] + int(side * 0.25)
    width = x + 2 * height
    canvas = np.zeros((3 * height, width), dtype=np.float32)
    for left, dy, mask in placed:
        top = height + dy - mask.shape[0] // 2 + height // 2
        top = int(np.clip(top, 0, canvas.shape[0] - mask.shape[0]))
        region = canvas[top : top + mask.shape[0], left + height // 2 : left + height // 2 + mask.shape[1]]
        np.maximum(region, mask[: region.shape[0], : region.shape[1]], out=region)
    return canvas


def on_paper(canvas, rng, kind):
    ink, paper = colours(rng)
    if kind != "handwritten" and np.mean(paper) < 128:  # scans and photos: dark ink on paper
        ink, paper = paper, ink
    if kind == "photographed":  # written on the sheet itself
        paper = (245, 242, 232)
    if kind == "pens":  # blue felt pen on brown paper, pencil on a yellow pad, ...
        ink, paper = [((35, 55, 170), (175, 135, 95)), ((90, 90, 100), (250, 236, 140)),
                      ((20, 20, 30), (225, 215, 190)), ((150, 30, 40), (240, 240, 235))][int(rng.integers(4))]
    rgb = (1 - canvas[..., None]) * np.array(paper) + canvas[..., None] * np.array(ink)
    return finish(Image.fromarray(rgb.astype(np.uint8)), rng, kind)


def handwritten_number(text, writers, rng, kind, touching=None):
    """MNIST digits side by side on paper, as `kind` (a family) has them."""
    height = int(rng.integers(36, 110))
    touching = rng.random() < 0.25 if touching is None else touching
    canvas = handwritten_ink(text, writers, rng, height, touching and kind != "pens", wide=kind == "pens" and rng.random() < 0.5,
                             soften=kind == "softscan")
    if kind == "pens":
        canvas = pen_effect(canvas, rng, height)
    return on_paper(canvas, rng, "scanned" if kind == "softscan" else kind)


def separated(rng):
    """A number with separators as people write one (the test split's own choice of forms)."""
    def digits(n):
        return "".join(str(d) for d in rng.integers(0, 10, n))

    return str(rng.choice([
        digits(1) + "." + digits(2),
        digits(2) + "," + digits(1),
        digits(1) + "," + digits(3),
        digits(2) + " " + digits(3),
        digits(2) + "/" + digits(2) + "/" + digits(4),
        digits(2) + "." + digits(2),
        digits(2) + ":" + digits(2),
        digits(3) + "-" + digits(4),
        "-" + digits(int(rng.integers(1, 3))),
    ]))


def stacked(texts, writers, rng, split):
    """Numbers one under another, handwritten or printed, on one paper."""
    height = int(rng.integers(36, 80))
    inks = []
    for text in texts:
        if rng.random() < 0.6:
            inks.append(handwritten_ink(text, writers, rng, height))
        else:
            inks.append(ink_of(typeset(text, rng, size=int(height * 1.3), split=split)))
    width = max(ink.shape[1] for ink in inks)
    rows = []
    for ink in inks:
        inked = np.flatnonzero(ink.max(axis=1) > 0.1)
        crop = ink[inked[0] : inked[-1] + 1]
        rows.append(np.pad(crop, ((0, int(height * rng.uniform(0.3, 0.8))), (0, width - crop.shape[1]))))
    canvas = np.pad(np.concatenate(rows), ((height // 2, height // 2), (0, 0)))
    return on_paper(canvas, rng, "handwritten")


def save(image, name, folder, n, rng):
    fmt = FORMATS[n % len(FORMATS)]
    options = {"quality": int(rng.integers(60, 95))} if fmt in ("jpg", "webp") else {}
    image.convert("RGB").save(folder / f"{name}-{n:03d}.{fmt}", **options)


def numbers(folder, rng, writers, split, per_family=30):
    n = 0
    for family in ("handwritten", "scanned", "photographed", "printed", "strokes", "touching", "lined", "boxed"):
        for _ in range(per_family):
            length = int(rng.integers(2, 7))
            text = "".join(str(d) for d in rng.integers(0, 10, length))
            if family in ("handwritten", "scanned", "photographed"):
                image = handwritten_number(text, writers, rng, family)
            elif family == "touching":
                image = handwritten_number(text, writers, rng, "handwritten", touching=True)
            elif family == "printed":
                image = typeset(text, rng, kerning=rng.choice([0.0, 0.0, 0.1, 0.18]), split=split)
            elif family == "strokes":
                image = pen_written([int(c) for c in text], TEMPLATES, rng)
            else:
                if rng.random() < 0.6:
                    image = handwritten_number(text, writers, rng, "handwritten", touching=False)
                else:
                    image = typeset(text, rng, split=split)
                image = decorate(image, rng, family)
            save(image, f"{text}-{family}", folder, n, rng)
            n += 1
    for family in ("pens", "softscan", "separators", "lines"):
        for _ in range(per_family):
            text = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(2, 7))))
            if family in ("pens", "softscan"):
                image = handwritten_number(text, writers, rng, family)
            elif family == "separators":
                text = separated(rng)
                if rng.random() < 0.6:
                    image = handwritten_number(text, writers, rng, "handwritten", touching=False)
                else:
                    image = typeset(text, rng, split=split)
            else:
                texts = ["".join(str(d) for d in rng.integers(0, 10, int(rng.integers(1, 6))))
                         for _ in range(int(rng.integers(2, 4)))]
                text = "\n".join(texts)
                image = stacked(texts, writers, rng, split)
            save(image, f"{label_name(text)}-{family}", folder, n, rng)
            n += 1
    for _ in range(per_family):  # drawn last: the families above are the same pictures as before it
        text = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(2, 7))))
        height = int(rng.integers(80, 220))
        canvas = handwritten_ink(text, writers, rng, height, wide=rng.random() < 0.3, fine=True)
        ink, paper = [((25, 45, 150), (250, 250, 245)), ((20, 20, 25), (245, 240, 225)),
                      ((100, 100, 110), (250, 250, 250))][int(rng.integers(3))]
        rgb = (1 - canvas[..., None]) * np.array(paper) + canvas[..., None] * np.array(ink)
        light = np.linspace(rng.uniform(0.8, 1.0), 1.0, rgb.shape[1])[None, :, None]
        rgb = rgb * light + rng.normal(0, rng.uniform(1, 5), rgb.shape[:2])[..., None]
        photo = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))  # a phone's photo: a JPEG
        photo.save(folder / f"{text}-finepen-{n:03d}.jpg", quality=int(rng.integers(60, 95)))
        n += 1


def nondigits(folder, rng, split, per_kind=30):
    n = 0
    for kind in ("letters", "words", "symbols", "scribbles", "shapes", "blank"):
        for k in range(per_kind if kind != "blank" else per_kind // 2):
            if kind == "letters":
                if k % 2:
                    image = pen_written([rng.choice(list(LETTER_TEMPLATES))], LETTER_TEMPLATES, rng)
                else:
                    image = typeset(rng.choice(list(LETTERS)), rng, split=split)
            elif kind == "words":
                if k % 2:
                    word = "".join(rng.choice(list(LETTER_TEMPLATES), int(rng.integers(2, 5))))
                    image = pen_written(list(word), LETTER_TEMPLATES, rng)
                else:
                    image = typeset(str(rng.choice(WORDS)), rng, split=split)
            elif kind == "symbols":
                image = typeset("".join(rng.choice(list(SYMBOLS), int(rng.integers(1, 4)))), rng, split=split)
            elif kind == "scribbles":
                image = scribble(rng)
            elif kind == "shapes":
                image = shape(rng, SHAPES[k % len(SHAPES)])
            else:
                image = blank(rng)
            save(image, kind, folder, n, rng)
            n += 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", metavar="DIR", help="write a development set into DIR instead")
    parser.add_argument("--per-family", type=int, default=30, metavar="N",
                        help="numbers of each family and non-digits of each kind (blank: half)")
    args = parser.parse_args(argv)
    base = Path(args.dev) if args.dev else HERE
    seed = 7 if args.dev else 2027
    for name, make in (("number_images", numbers), ("nondigit_images", nondigits)):
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        rng = np.random.default_rng(seed)
        split = "dev" if args.dev else "test"
        if make is numbers:
            make(folder, rng, mnist(split), split, args.per_family)
        else:
            make(folder, rng, split, args.per_family)
        print(f"wrote {len(list(folder.iterdir()))} images to {folder}")


if __name__ == "__main__":
    main()
