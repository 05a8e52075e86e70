"""Make the test set of digit images unlike MNIST's own, with known labels.

    python tests/make_digit_images.py            # rewrites tests/digit_images/
    python tests/make_digit_images.py --dev DIR  # a development set: other seeds, MNIST's
                                                 # validation hold-out, the development font
                                                 # families (digits.make.fonts); for tuning
    python tests/make_digit_images.py --dev DIR --seed 20   # another one

Seven families, each file named <label>-<family>-<n>.<format>:
  printed  digits typeset in the 14 fonts matplotlib ships, at many sizes and positions, in dark, light and
           coloured inks on plain, tinted and transparent backgrounds, some rotated or blurred
  strokes  digits drawn by code as pen strokes (a spline through a template's points,
           jittered, slanted, in pens of different widths), as a person draws them
  scans    real handwriting, MNIST test digits, "printed" large as dark ink on paper, with
           paper tint, noise, blur and JPEG compression, somewhere on a bigger page
  photos   small handwritten digits on 2400x1800 unevenly lit sheets
  notebook handwriting on ruled or squared paper with a margin line, half of it in shadow
  desk     a sheet with a handwritten digit, photographed lying on a dark desk
  softscan real handwriting scanned small and soft, as old form scanners did: an MNIST test
           digit reduced to 8 to 16 pixels and enlarged again, blurred, noisy, JPEG
All in PNG, JPEG, BMP, GIF and WebP; grey, RGB and RGBA. Seeded: the same files every run.
The development set has the same families, made from what the test set never uses.
"""

import argparse
import io
import sys
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script, too
from digits.make.data import split_validation
from digits.make.fonts import split_fonts
from digits.make.synthetic import TEMPLATES, catmull_rom, colours

# The 14 typefaces that matplotlib ships: this set's printed digits were made in them
# (before digits.make.fonts; some of these families are in its training split).
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_FILES = [
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
]

OUT = Path(__file__).resolve().parent / "digit_images"
FORMATS = ["png", "jpg", "webp", "gif", "png", "jpg", "webp", "bmp"]


def mnist_handwriting(split="test"):
    """Real handwriting for the families built on it: MNIST's test images and labels, or
    for --dev the validation hold-out of its training images (digits.make.data)."""
    with np.load(Path(__file__).resolve().parent.parent / "data" / "mnist.npz") as mnist:
        if split == "test":
            return mnist["x_test"], mnist["y_test"]
        return split_validation(mnist["x_train"], mnist["y_train"])[1]


def ink_mask(digit, side):
    """An MNIST digit scaled to side x side, as ink coverage in [0, 1] with a colour axis."""
    big = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    return np.asarray(big, dtype=np.float32)[..., None] / 255


def save(image, label, family, n, rng, out):
    fmt = FORMATS[n % len(FORMATS)]
    mode = rng.choice(["L", "RGB", "RGB"]) if image.mode != "RGBA" else "RGBA"
    if fmt in ("jpg", "bmp") and mode == "RGBA":
        mode = "RGB"
    if fmt == "bmp":  # uncompressed: keep these small and grey
        mode = "L"
        image.thumbnail((160, 160))
    image = image.convert(mode)
    options = {"quality": int(rng.integers(60, 95))} if fmt in ("jpg", "webp") else {}
    image.save(out / f"{label}-{family}-{n:03d}.{fmt}", **options)


def printed(rng, out, fonts, count_per_digit=14):
    n = 0
    for label in range(10):
        for k in range(count_per_digit):
            font_file = fonts[(label + k) % len(fonts)]
            ink, paper = colours(rng)
            width, height = int(rng.integers(40, 320)), int(rng.integers(40, 320))
            size = int(min(width, height) * rng.uniform(0.35, 0.9))
            transparent = rng.random() < 0.15
            canvas = Image.new("RGBA", (width, height), (*paper, 0 if transparent else 255))
            font = ImageFont.truetype(str(font_file), size)
            glyph = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
            ImageDraw.Draw(glyph).text(
                (size // 2, size // 4), str(label), font=font, fill=(*ink, 255)
            )
            glyph = glyph.crop(glyph.getbbox())
            glyph = glyph.rotate(
                rng.uniform(-10, 10), expand=True, resample=Image.Resampling.BICUBIC
            )
            fit = min(1.0, 0.95 * width / glyph.width, 0.95 * height / glyph.height)
            if fit < 1.0:
                glyph = glyph.resize(
                    (max(1, int(glyph.width * fit)), max(1, int(glyph.height * fit)))
                )
            x = int(rng.integers(0, width - glyph.width + 1))
            y = int(rng.integers(0, height - glyph.height + 1))
            canvas.alpha_composite(glyph, (x, y))
            if rng.random() < 0.3:
                canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
            save(canvas if transparent else canvas.convert("RGB"), label, "printed", n, rng, out)
            n += 1


def strokes(rng, out, count_per_digit=12):
    n = 0
    for label in range(10):
        for _ in range(count_per_digit):
            ink, paper = colours(rng)
            side = int(rng.integers(60, 320))
            canvas = Image.new("RGB", (side, side), paper)
            draw = ImageDraw.Draw(canvas)
            slant, squash = rng.uniform(-0.25, 0.25), rng.uniform(0.75, 1.1)
            size = rng.uniform(0.45, 0.8)  # of the canvas; the rest is margin, placed at random
            scale, offset = side * size, rng.uniform(0.05, 0.95 - size, size=2) * side
            pen = max(2, int(side * rng.uniform(0.03, 0.09)))
            for path in TEMPLATES[label]:
                points = np.array(path) + rng.normal(0, 0.025, (len(path), 2))
                curve = catmull_rom(points)
                x = (curve[:, 0] - 0.5) * squash + 0.5 + slant * (0.5 - curve[:, 1])
                xy = np.stack([x * scale + offset[0], curve[:, 1] * scale + offset[1]], axis=1)
                draw.line([tuple(p) for p in xy], fill=ink, width=pen, joint="curve")
                for end in (xy[0], xy[-1]):  # round pen ends
                    draw.ellipse([*(end - pen / 2), *(end + pen / 2)], fill=ink)
            save(canvas, label, "strokes", n, rng, out)
            n += 1


def scans(rng, out, handwriting, count=150):
    images, labels = handwriting
    picks = rng.choice(len(images), count, replace=False)
    for n, i in enumerate(picks):
        ink, paper = colours(rng)
        mask = ink_mask(images[i], 28 * 8)
        tile = (1 - mask) * np.array(paper) + mask * np.array(ink)
        side = int(28 * 8 * rng.uniform(0.3, 1.0))
        tile = Image.fromarray(tile.astype(np.uint8)).resize((side, side), Image.Resampling.LANCZOS)
        page = Image.new(
            "RGB", (int(side * rng.uniform(1.0, 2.0)), int(side * rng.uniform(1.0, 2.0))), paper
        )
        page.paste(
            tile,
            (
                int(rng.integers(0, page.width - side + 1)),
                int(rng.integers(0, page.height - side + 1)),
            ),
        )
        noisy = np.asarray(page, dtype=np.float32) + rng.normal(
            0, rng.uniform(0, 12), (page.height, page.width, 1)
        )
        page = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
        if rng.random() < 0.4:
            page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.0)))
        buffer = io.BytesIO()
        page.save(buffer, "JPEG", quality=int(rng.integers(40, 90)))  # scanner JPEG artefacts
        save(Image.open(buffer), int(labels[i]), "scans", n, rng, out)


def photos(rng, out, handwriting, count=6):
    """Big camera-sized pictures: a small digit somewhere on a 2400x1800 sheet, lit unevenly."""
    images, labels = handwriting
    for n, i in enumerate(rng.choice(len(images), count, replace=False)):
        light = np.linspace(0.75, 1.0, 2400)[None, :, None] * np.array([245.0, 240, 230])
        sheet = np.broadcast_to(light, (1800, 2400, 3)).copy()
        side = int(rng.integers(200, 700))
        mask = ink_mask(images[i], side)[..., 0]
        y, x = int(rng.integers(0, 1800 - side)), int(rng.integers(0, 2400 - side))
        sheet[y : y + side, x : x + side] *= 1 - 0.85 * mask[..., None]
        Image.fromarray(sheet.astype(np.uint8)).save(
            out / f"{labels[i]}-photos-{n:03d}.jpg", quality=80
        )


def notebook(rng, out, handwriting, count=30):
    """Handwriting (MNIST test digits) in dark ink on ruled or squared paper, photographed
    under uneven light: the lines and the shadow must not be taken for ink."""
    images, labels = handwriting
    for n, i in enumerate(rng.choice(len(images), count, replace=False)):
        height, width = 300, 400
        page = np.ones((height, width, 3)) * np.array([250.0, 249, 243])
        spacing = int(rng.integers(18, 30))
        for row in range(int(rng.integers(5, 20)), height, spacing):
            page[row : row + 2] = [150, 180, 230]
        if n % 3 == 0:  # squared paper
            for col in range(int(rng.integers(5, 20)), width, spacing):
                page[:, col : col + 2] = [150, 180, 230]
        else:  # a red margin
            page[:, 50:52] = [230, 120, 120]
        side = int(rng.integers(90, 200))
        mask = ink_mask(images[i], side)
        y, x = int(rng.integers(0, height - side)), int(rng.integers(60, width - side))
        ink = np.array([30.0, 30, 70]) if rng.random() < 0.5 else np.array([20.0, 20, 20])
        page[y : y + side, x : x + side] = (
            page[y : y + side, x : x + side] * (1 - mask) + ink * mask
        )
        if n % 2 == 0:  # light falling off across the page
            across = np.linspace(rng.uniform(0.35, 0.6), 1.0, width)[None, :, None]
            down = np.linspace(rng.uniform(0.6, 1.0), 1.0, height)[:, None, None]
            page = page * (across if rng.random() < 0.5 else across[:, ::-1]) * down
        Image.fromarray(page.astype(np.uint8)).save(
            out / f"{labels[i]}-notebook-{n:03d}.jpg", quality=80
        )


def desk(rng, out, handwriting, count=20):
    """A sheet of paper with one handwritten digit, photographed lying on a dark desk."""
    images, labels = handwriting
    for n, i in enumerate(rng.choice(len(images), count, replace=False)):
        height, width = 360, 480
        wood = np.array([rng.uniform(40, 110), rng.uniform(30, 80), rng.uniform(20, 60)])
        photo = np.ones((height, width, 3)) * wood + rng.normal(0, 6, (height, width, 1))
        sheet_h, sheet_w = int(rng.integers(180, 300)), int(rng.integers(200, 400))
        sheet = np.ones((sheet_h, sheet_w, 3)) * np.array([245.0, 243, 236])
        side = int(rng.integers(60, min(sheet_h, sheet_w) - 30))
        mask = ink_mask(images[i], side)
        y, x = (
            int(rng.integers(10, sheet_h - side - 10)),
            int(rng.integers(10, sheet_w - side - 10)),
        )
        sheet[y : y + side, x : x + side] = (
            sheet[y : y + side, x : x + side] * (1 - mask) + 30 * mask
        )
        top, left = int(rng.integers(0, height - sheet_h)), int(rng.integers(0, width - sheet_w))
        photo[top : top + sheet_h, left : left + sheet_w] = sheet
        Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(
            out / f"{labels[i]}-desk-{n:03d}.jpg", quality=80
        )


def softscan(rng, out, handwriting, count=150):
    images, labels = handwriting
    for n, i in enumerate(rng.choice(len(images), count, replace=False)):
        ink, paper = colours(rng)
        if np.mean(paper) < 128:  # a scanner's page: dark ink on light paper
            ink, paper = paper, ink
        small = int(rng.integers(8, 17))
        digit = Image.fromarray(images[i]).resize((small, small), Image.Resampling.BOX)
        side = int(small * rng.uniform(3, 8))
        method = [Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC][n % 3]
        mask = np.asarray(digit.resize((side, side), method), dtype=np.float32)[..., None] / 255
        tile = (1 - mask) * np.array(paper) + mask * np.array(ink)
        page = Image.new("RGB", (int(side * rng.uniform(1.1, 1.8)),) * 2, paper)
        page.paste(Image.fromarray(tile.astype(np.uint8)), (int(rng.integers(0, page.width - side + 1)),) * 2)
        page = page.filter(ImageFilter.GaussianBlur(side / small * rng.uniform(0.2, 0.6)))
        noisy = np.asarray(page, dtype=np.float32) + rng.normal(0, rng.uniform(2, 10), (page.height, page.width, 1))
        buffer = io.BytesIO()
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=int(rng.integers(40, 85)))
        save(Image.open(buffer), int(labels[i]), "softscan", n, rng, out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", metavar="DIR", help="write a development set into DIR instead")
    parser.add_argument("--seed", type=int, default=8, help="the development set's seed (another seed, another set)")
    args = parser.parse_args(argv)
    out = Path(args.dev) if args.dev else OUT
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    if args.dev:
        rng, handwriting = np.random.default_rng(args.seed), mnist_handwriting("dev")
        fonts = split_fonts("dev")
        fonts = [fonts[i] for i in rng.choice(len(fonts), len(FONT_FILES), replace=False)]
    else:
        rng, handwriting, fonts = np.random.default_rng(2026), mnist_handwriting(), [FONTS / f for f in FONT_FILES]
    printed(rng, out, fonts)
    strokes(rng, out)
    for family in (scans, photos, notebook, desk, softscan):
        family(rng, out, handwriting)
    print(f"wrote {len(list(out.iterdir()))} images to {out}")


if __name__ == "__main__":
    main()
