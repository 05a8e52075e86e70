"""Turning any picture of one digit into what an MNIST model expects.

MNIST's digits were prepared in a particular way: white ink on black, the ink's bounding
box scaled (keeping its aspect ratio) to fit 20x20 pixels with anti-aliasing, and that
placed in a 28x28 frame so that the ink's centre of mass sits at the centre. A photo of
dark ink on white paper, a digit in a corner, or a 4000-pixel scan looks nothing like
that, and a model trained on MNIST answers nonsense. normalize_digit() repeats MNIST's
preparation on any image; predict.py and the drawing page both use it.
"""

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from digits import DigitsError, DigitsWarning


class NoInk(DigitsError):
    """The picture is blank: nothing in it differs enough from the paper."""


MAX_PIXELS = 40_000_000  # larger images are refused unread: a decompression bomb, or a mistake
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
WORKING_SIZE = 1024  # longest side that an image is reduced to before anything else
BOX = 20  # MNIST's digits fit a 20x20 box inside the 28x28 frame
FRAME = 28
STROKE = 2.5  # typical width of an MNIST pen stroke, in pixels of the 20-pixel box
MIN_CONTRAST = 0.15  # ink must differ from the background by this much (of full scale)
# Paper this grey (of full scale) may carry dark ink or light: blue pen on brown paper is
# darker than mid-grey, chalk on a grey board lighter (dark_ink).
MID_GREY = (0.3, 0.7)


def load_picture(source, name=None):
    """Read an image file (a path or a binary file object): (2-D float grey levels in [0, 1],
    the picture's size over theirs). Pictures over WORKING_SIZE are reduced to it.

    Colour is reduced to luminance. Transparent pixels are laid over a background that
    contrasts with the ink, so a dark drawing on a transparent canvas reads as dark on
    light. Phone photos are turned upright by their EXIF orientation.
    """
    name = name or str(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            if image.width * image.height > MAX_PIXELS:
                raise DigitsError(
                    f"{name}: {image.width}x{image.height} pixels is over the "
                    f"{MAX_PIXELS // 1_000_000} megapixel limit"
                )
            image.seek(0)  # the first frame of a GIF or WebP animation
            image = ImageOps.exif_transpose(image)
            longest = max(image.size)
            # A digit needs no more than this; it keeps a 40-megapixel photo fast and small.
            image.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BOX)
            scale = longest / max(1, max(image.size))
            if image.mode == "L" and "transparency" not in image.info:
                # plain grey (a drawing from the page): already the luminance, 4x less work
                rgba = np.asarray(image, dtype=np.float32)[..., None] / 255.0
            else:
                rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    except DigitsError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DigitsError(
            f"{name}: too large: over the {MAX_PIXELS // 1_000_000} megapixel limit"
        ) from None
    except UnidentifiedImageError:
        raise DigitsError(
            f"{name}: not an image that can be read (PNG, JPEG, BMP, GIF, WebP)"
        ) from None
    except PermissionError as err:
        raise DigitsError(f"{name}: cannot be read ({err.strerror or 'permission denied'})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as err:
        raise DigitsError(f"{name}: damaged or truncated image ({err})") from None
    if rgba.size == 0:
        raise DigitsError(f"{name}: the image has no pixels")
    if rgba.shape[-1] == 1:
        return rgba[..., 0], scale
    grey = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    alpha = rgba[..., 3]
    if alpha.min() < 0.99:
        # Over white if the visible ink is dark, over black if it is light.
        ink = np.average(grey, weights=alpha) if alpha.sum() > 0 else 0.0
        background = 1.0 if ink < 0.5 else 0.0
        grey = grey * alpha + background * (1 - alpha)
    return grey, scale


def normalize_digit(grey, name="image"):
    """2-D grey levels in [0, 1], any size and polarity -> a (28, 28) float32 MNIST-style digit.

    1. Paper, polarity and light: a sheet photographed on a darker desk is cut out of
       the photo (page_bounds); the ink is made light on a dark background, as in MNIST,
       and a shadow across the page is evened out (light_ink_on_dark).
    2. Contrast: levels are stretched so the background is 0 and the ink is 1; texture
       (paper grain, sensor and JPEG noise) under a threshold set by the border's own
       noise is dropped, and so are the lines of ruled or squared paper.
    3. Crop to the ink, leaving out stray specks (the outermost 0.5% of the ink's mass).
    4. Scale its longest side to 20 pixels, keeping the aspect ratio, with area averaging;
       strokes that would end up much thinner than MNIST's pen are thickened first.
    5. Place it in a 28x28 frame with its centre of mass at the centre, as MNIST did.
    """
    return digit_from_ink(find_ink(grey, name))


def find_ink(grey, name="image"):
    """Steps 1 and 2 of normalize_digit: grey levels -> ink in [0, 1] on 0, the size of the
    (page in the) picture. A picture with no ink raises DigitsError."""
    return locate_ink(grey, name)[0]


def locate_ink(grey, name="image"):
    """find_ink's ink, and where it lies in the picture: (ink, (top, left)) of the page."""
    grey = np.asarray(grey, dtype=np.float32)
    if grey.ndim != 2 or grey.size == 0 or not np.all(np.isfinite(grey)):
        raise DigitsError(f"{name}: expected a non-empty 2-D image of finite grey levels")
    grey = np.clip(grey, 0.0, 1.0)

    top, bottom, left, right = page_bounds(grey)
    grey = light_ink_on_dark(grey[top:bottom, left:right])
    border = edges(grey)
    background = float(np.median(border))
    ink_level = percentile(grey, 99.9)
    if ink_level - background < MIN_CONTRAST:  # perhaps a small number in a big photo:
        ink_level = percentile(grey, 99.99)  # then its ink must be clear
        if ink_level - background < 2 * MIN_CONTRAST:
            ink_level = background
    contrast = ink_level - background
    if contrast < MIN_CONTRAST:
        raise NoInk(f"{name}: no ink found (the image is blank or has almost no contrast)")
    soft = np.clip((grey - background) / contrast, 0.0, 1.0)
    noise = 1.4826 * float(np.median(np.abs(border - background))) / contrast  # robust sigma
    ink = np.where(soft < min(0.6, max(0.1, 5 * noise)), 0.0, soft).astype(np.float32)
    ink = remove_ruled_lines(ink, soft)
    if not ink.any():
        raise NoInk(f"{name}: no ink found apart from ruled lines")
    return ink, (top, left)


def digit_from_ink(ink):
    """Steps 3 to 5 of normalize_digit: the ink of one digit -> the (28, 28) MNIST frame."""
    ink = crop_to_ink(ink)
    if max(ink.shape) > 4 * BOX:  # work at 4x the final size: enough detail, little cost
        ink = resize_longest_side(ink, 4 * BOX)
    ink = thicken_strokes(ink, target=STROKE * max(ink.shape) / BOX)
    small = resize_longest_side(ink, BOX)

    frame = np.zeros((FRAME, FRAME), dtype=np.float32)
    total = small.sum()
    centre_y = (np.arange(small.shape[0]) @ small.sum(axis=1)) / total
    centre_x = (np.arange(small.shape[1]) @ small.sum(axis=0)) / total
    top = int(np.clip(round(FRAME / 2 - centre_y), 0, FRAME - small.shape[0]))
    left = int(np.clip(round(FRAME / 2 - centre_x), 0, FRAME - small.shape[1]))
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return frame


def percentile(values, q):
    """float(np.percentile(values, q)): the same virtual index and linear interpolation,
    found by a partial sort alone, ten times faster on a drawing (which matters to a server
    reading hundreds a second). For float32 images, as here, the same to the last bit; for
    float64 it may differ by one rounding."""
    flat = np.asarray(values).ravel()
    fraction = q / 100
    position = flat.size * fraction + (1 + fraction * -1) - 1  # numpy's "linear" index
    below = int(np.floor(position))
    above = min(below + 1, flat.size - 1)
    part = np.partition(flat, (below, above))
    low, high, t = part[below], part[above], position - below
    step = high - low
    return float(low + step * t if t < 0.5 else high - step * (1 - t))


def edges(grey):
    """The pixels along the image's four edges, which are mostly background."""
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def page_bounds(grey):
    """(top, bottom, left, right) of the sheet of paper in a photo of it lying on a darker
    desk; the whole picture where there is no such sheet.

    Otherwise the dark surround reads as background and the whole bright sheet as one
    huge stroke. A sheet is told from a light digit on a dark ground by being solid (it
    fills 85% of its bounding box; a bold digit's strokes fill much less), sizeable, and
    not a long bar.
    """
    whole = (0, grey.shape[0], 0, grey.shape[1])
    if min(grey.shape) < 64:
        return whole
    surround, light = float(np.median(edges(grey))), percentile(grey, 99)
    if light - surround < 0.3:
        return whole
    bright = (grey > (surround + light) / 2).astype(np.float32)
    if bright.mean() < 0.08:
        return whole
    rows, cols = trimmed_extent(bright.sum(axis=1)), trimmed_extent(bright.sum(axis=0))
    sheet = bright[rows[0] : rows[1] + 1, cols[0] : cols[1] + 1]
    height, width = sheet.shape
    sheet_like = (
        sheet.mean() >= 0.85  # solid
        and height >= 0.2 * grey.shape[0]
        and width >= 0.2 * grey.shape[1]  # sizeable
        and 1 / 3 <= height / width <= 3  # not a bar, such as a fat "1"
        and sheet.size <= 0.95 * grey.size  # not the whole picture
    )
    if not sheet_like:
        return whole
    margin_y, margin_x = (
        (rows[1] - rows[0]) // 30,
        (cols[1] - cols[0]) // 30,
    )  # past the sheet's edge
    return (rows[0] + margin_y, rows[1] + 1 - margin_y, cols[0] + margin_x, cols[1] + 1 - margin_x)


def light_ink_on_dark(grey):
    """Make the ink light on a dark background, as in MNIST, and even out uneven lighting.

    Usually the image's edges are evenly lit paper: light edges mean dark ink (dark_ink),
    and the image is simply inverted. When the edges vary a lot (a shadow across the
    page), the ink is instead the minority that stands out from its surroundings, downwards
    for dark ink; the light is then evened out by dividing by the local paper level (light
    multiplies: ink and paper darken together), or for light ink by subtracting the
    local background.
    """
    border = edges(grey)
    low, high = np.percentile(border, [25, 75])
    if high - low < 0.2:
        return 1.0 - grey if dark_ink(grey, float(np.median(border))) else grey
    residual = grey - local_level(grey, 50)
    darker = np.clip(-residual - 0.05, 0, None).sum()
    lighter = np.clip(residual - 0.05, 0, None).sum()
    if darker > lighter:
        paper = np.maximum(local_level(grey, 90), 1e-3)
        return 1.0 - np.clip(grey / paper, 0.0, 1.0)
    return np.clip(grey - local_level(grey, 10), 0.0, 1.0)


def dark_ink(grey, paper):
    """Whether the ink is darker than the paper, whose level is `paper`. Paper lighter than
    MID_GREY[1] has dark ink, darker than MID_GREY[0] light ink; between them (brown kraft
    paper, a grey board, a page in shade) the ink is on the side where the picture's
    extreme levels (its darkest and lightest thousandth) lie further from the paper."""
    if not MID_GREY[0] <= paper <= MID_GREY[1]:
        return paper > 0.5
    return paper - percentile(grey, 0.1) > percentile(grey, 99.9) - paper


def local_level(grey, percentile, grid=8):
    """A smooth map of `grey`'s local level: the given percentile of each of about
    grid x grid blocks, interpolated between block centres. With a high percentile
    on dark ink (or a low one on light ink) it is the paper's level, shading and all,
    as long as a stroke fills no whole block."""
    height, width = grey.shape
    block = max(4, -(-max(height, width) // grid))
    rows, cols = -(-height // block), -(-width // block)
    padded = np.pad(grey, ((0, rows * block - height), (0, cols * block - width)), mode="edge")
    blocks = padded.reshape(rows, block, cols, block).transpose(0, 2, 1, 3).reshape(rows, cols, -1)
    level = np.percentile(blocks, percentile, axis=2).astype(np.float32)
    smooth = Image.fromarray(level, mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(smooth)


def remove_ruled_lines(ink, soft, thickness=0.03):
    """Erase the lines of ruled or squared paper, and bridge the gaps they leave in the digit.

    A line is a thin band of rows (or columns) of which nine pixels in ten are at least
    faintly inked in `soft`, the stretched image before noise was cut. Only in images big
    enough to be a photo or scan (a 28x28 digit's bar can span it), and only bands
    thinner than `thickness` of the image. Where ink continues on both sides of an erased
    band, the band is filled from them, so a stroke crossing a line stays whole.

    Where the paper itself is faintly inked in `soft` over a band too wide to be a line
    (light falling off across the page), a line within it (a legal pad's margin) is no
    thin band of its own: then the same again, with `soft` less its local level
    (local_level).
    """
    if min(ink.shape) < 64:
        return ink
    ink, wide = _remove_lines(ink, soft, thickness)
    if wide:
        ink, _ = _remove_lines(ink, np.clip(soft - local_level(soft, 50), 0.0, 1.0), thickness)
    return ink


def _remove_lines(ink, soft, thickness):
    """One pass of remove_ruled_lines, with the levels `soft`: (the ink without the lines
    found, whether a band of 'lined' rows or columns was too wide to be one)."""
    ink, wide = ink.copy(), False
    for axis in (0, 1):  # horizontal lines (bands of rows), then vertical ones
        faint = (soft < 0.08).sum(axis=1 - axis)  # pixels not even faintly inked
        lined = faint <= int(0.1 * (soft.shape[1 - axis] - 1))  # nine in ten are inked
        limit = max(2, int(thickness * ink.shape[axis]))
        bands = thin_bands(lined, limit)
        wide = wide or bool(longest_runs(lined[None])[0] > limit)
        view = ink if axis == 0 else ink.T
        for start, stop in bands:
            view[start:stop] = 0.0
            if start > 0 and stop < view.shape[0]:
                view[start:stop] = np.minimum(view[start - 1], view[stop])
    return ink, wide


def remove_form_lines(ink, length=0.8, between=0.85):
    """The ink of one line of writing less an underline or a form's box around it, for
    cutting it into digits: rows whose longest run of ink spans `length` of the ink's
    width, and, between the first and last such row, columns whose ink runs `between` of
    the way from one to the other (a box's sides; a digit inside stays clear of them).
    Rows and columns are blanked, not bridged: where a digit crosses a rule, it loses
    those rows or columns. The ink itself when it has no rule.
    """
    inked = ink > 0
    columns = np.flatnonzero(inked.any(axis=0))
    if len(columns) == 0:
        return ink
    rules = longest_runs(inked) >= length * (columns[-1] - columns[0] + 1)
    if not rules.any():
        return ink
    ink = ink.copy()
    ink[rules] = 0.0
    rows = np.flatnonzero(rules)
    inner = np.flatnonzero(~rules[rows[0] : rows[-1]])  # the rows between the first rule and the last
    if len(inner) > 2:  # a box: its sides run from the top rule to the bottom one
        top, bottom = rows[0] + inner[0], rows[0] + inner[-1] + 1
        sides = longest_runs((ink[top:bottom] > 0).T) >= between * (bottom - top)
        ink[:, sides] = 0.0
    return ink


def longest_runs(flags):
    """For each row of a 2-D boolean array, the length of its longest run of True."""
    counts = np.cumsum(flags, axis=1)  # inked pixels so far; at each gap, the count there
    return (counts - np.maximum.accumulate(np.where(flags, 0, counts), axis=1)).max(axis=1)


def thin_bands(flags, limit):
    """The runs of True in `flags` at most `limit` long, widened by one each side, as
    (start, stop) pairs."""
    bands, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start <= limit:
                bands.append((max(0, start - 1), min(len(flags), i + 1)))
            start = None
    return bands


def crop_to_ink(ink, stray=0.005):
    """The smallest box holding all but the outermost `stray` fraction of ink on each side."""
    top, bottom = trimmed_extent(ink.sum(axis=1), stray)
    left, right = trimmed_extent(ink.sum(axis=0), stray)
    return ink[top : bottom + 1, left : right + 1]


def trimmed_extent(profile, stray=0.005):
    """First and last index of `profile` once `stray` of its mass is left off each end."""
    cumulative = np.cumsum(profile) / profile.sum()
    first = int(np.searchsorted(cumulative, stray, side="right"))
    last = int(np.searchsorted(cumulative, 1 - stray, side="left"))
    return first, max(first, last)


def resize_longest_side(ink, side):
    """Area-average `ink` so its longest side is `side` pixels, then restretch it to a peak of 1."""
    height, width = ink.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(ink, mode="F").resize(size, Image.Resampling.BOX))
    return np.clip(small / small.max(), 0.0, 1.0)


def thicken_strokes(ink, target):
    """Dilate the ink until its strokes are about `target` pixels wide, if they are much thinner.

    A stroke's width is estimated as twice its area over its outline's length (a long
    stroke of width w and length L has area wL and an outline of about 2L).
    """
    mask = ink > 0.5
    area = mask.sum()
    inside = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    outline = area - inside.sum()
    if area == 0 or outline == 0:
        return ink
    width = 2 * area / outline
    steps = int(round((target - width) / 2)) if width < 0.6 * target else 0
    for _ in range(steps):  # each 3x3 maximum widens a stroke by 2 pixels
        ink = np.asarray(Image.fromarray(ink, mode="F").filter(ImageFilter.MaxFilter(3)))
    return ink


def image_files(paths):
    """Expand folders into the image files inside them (sorted); files are kept as given.
    A folder inside that cannot be read is named in a warning, and the rest go on."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = []
            for folder, _, names in os.walk(path, onerror=_unreadable_folder):
                found += [Path(folder) / n for n in names if Path(n).suffix.lower() in IMAGE_SUFFIXES]
            files += sorted(found)
        else:
            files.append(path)
    return files


def _unreadable_folder(err):
    warnings.warn(
        DigitsWarning(f"{err.filename}: cannot read this folder ({err.strerror}); its images are skipped"),
        stacklevel=2,
    )
