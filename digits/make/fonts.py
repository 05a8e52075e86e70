"""Typefaces for the pictures made by code, found on this machine and split by family.

The fonts come from the Debian packages listed in data/font-packages.txt (several hundred
faces in about a hundred families: serif, sans, monospace, display, school and comic
hands, scripts), which .ci/run installs:

    apt-get install $(grep -v '^#' data/font-packages.txt)

Only those packages' files are used (dpkg-query lists them), so a machine with more
fonts installed makes the same pictures. Every family goes whole to one split, chosen
by a hash of its name (about 70% train, 15% development, 15% test): no family of the
test split is seen in training or in choosing a constant.
"""

import functools
import hashlib
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digits import DATA, DigitsError

PACKAGES = DATA / "font-packages.txt"
SPLITS = ("train", "dev", "test")
FONT_SUFFIXES = (".ttf", ".otf")


def packages():
    return [line.split("#")[0].strip() for line in PACKAGES.read_text().splitlines() if line.split("#")[0].strip()]


def split_of(family):
    """'train', 'dev' or 'test': fixed by the family's name, whatever else is installed."""
    bucket = int(hashlib.sha256(family.lower().encode()).hexdigest(), 16) % 20
    return "train" if bucket < 14 else "dev" if bucket < 17 else "test"


def missing_packages():
    """The listed packages that are not installed here (all of them without dpkg-query)."""
    try:
        listing = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", *packages()],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    except FileNotFoundError:
        return packages()
    installed = {line.split()[0] for line in listing.splitlines() if line.endswith(" installed")}
    return [package for package in packages() if package not in installed]


INSTALL_COMMAND = "apt-get install $(grep -v '^#' data/font-packages.txt)"


def font_files():
    """The font files of the listed packages, sorted."""
    try:
        listing = subprocess.run(
            ["dpkg-query", "-L", *packages()], capture_output=True, text=True, check=False
        ).stdout
    except FileNotFoundError:
        raise DigitsError("finding the fonts needs dpkg-query (a Debian or Ubuntu system)") from None
    files = sorted({line for line in listing.splitlines() if line.lower().endswith(FONT_SUFFIXES)})
    files = [f for f in files if Path(f).is_file()]
    if not files:
        raise DigitsError(f"none of the fonts in {PACKAGES} is installed; {INSTALL_COMMAND}")
    return files


def glyph(font, ch):
    """One character drawn in `font`: (ink, box), the ink a uint8 array cropped to the
    glyph's box with a pixel of margin, the box (left, top, right, bottom) measured from
    the pen's position on the baseline. None for a character the font draws blank.

    The one place text becomes ink: every picture of type made by code is built from it."""
    box = font.getbbox(ch, anchor="ls")
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    image = Image.new("L", (box[2] - box[0] + 2, box[3] - box[1] + 2), 0)
    ImageDraw.Draw(image).text((1 - box[0], 1 - box[1]), ch, font=font, fill=255, anchor="ls")
    return np.asarray(image), box


def _probe(font, text):
    canvas = Image.new("L", (96, 96), 0)
    ImageDraw.Draw(canvas).text((16, 16), text, font=font, fill=255)
    return np.asarray(canvas)


def readable(font):
    """Whether a font draws the ten digits and letters as ten (and more) different glyphs
    of its own, on a 96-pixel square at size 48, rather than empty or 'missing glyph' boxes
    (symbol and icon fonts; and a math font whose ascent puts its digits off the square)."""
    try:
        glyphs = [_probe(font, ch) for ch in "0123456789AEKxg"]
        missing = _probe(font, "\uffff")
    except (OSError, ValueError):
        return False
    if any(g.sum() == 0 or np.array_equal(g, missing) for g in glyphs):
        return False
    return len({g.tobytes() for g in glyphs[:10]}) == 10


@functools.lru_cache(maxsize=None)
def families():
    """{family name: [font files]} of the readable fonts."""
    out = {}
    for path in font_files():
        try:
            font = ImageFont.truetype(path, 48)
        except OSError:
            continue
        family = font.getname()[0] or Path(path).stem
        if readable(font):
            out.setdefault(family, []).append(path)
    return out


def split_fonts(split):
    """The font files of one split's families, sorted."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}")
    return sorted(f for family, files in families().items() if split_of(family) == split for f in files)


def main():
    counts = {s: [0, 0] for s in SPLITS}
    for family, files in sorted(families().items()):
        counts[split_of(family)][0] += 1
        counts[split_of(family)][1] += len(files)
    for split, (nfam, nfiles) in counts.items():
        print(f"{split}: {nfam} families, {nfiles} font files")


if __name__ == "__main__":
    main()
