"""predict.py and the image normalisation it shares with the drawing page."""

import io
import json
import os
import warnings
import weakref
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from digits.cli import predict
from digits import DigitsError, DigitsWarning
from digits.read.inference import predict as probabilities_of
from digits.read.images import image_files, load_picture, normalize_digit, page_bounds

OWN_IMAGES = Path(__file__).resolve().parent / "digit_images"


def own(label, family, suffix=""):
    """The first of the test set's images of `label` in `family` (ending in `suffix`)."""
    return sorted(OWN_IMAGES.glob(f"{label}-{family}-*{suffix}"))[0]


@pytest.fixture(scope="module")
def shipped(shipped_reader):
    """The model predict.py and serve.py use unless told otherwise."""
    return shipped_reader.model


def test_normalisation_repeats_mnists_own_preparation(mnist):
    """MNIST digits, already prepared, come back (almost) unchanged."""
    originals = mnist["x_test"][:500] / 255.0
    again = np.stack([normalize_digit(x) for x in originals])
    assert again.shape == (500, 28, 28) and again.dtype == np.float32
    assert np.abs(again - originals).mean() < 0.01


def test_own_test_set_is_classified_above_the_floor(shipped):
    """The images in tests/digit_images (made by tests/make_digit_images.py) are unlike MNIST:
    printed fonts, pen strokes, scanned and photographed handwriting, handwriting on ruled
    paper in shadow, a sheet on a dark desk, in every format. Measured with the default model
    (accurate): 98.1% of those six families, each 95.0% or more (cnn: 97.6%, also 95.8% or
    more); and 92.0% of the seventh, handwriting scanned small and soft (the reading issue
    asks 95% of the reader); the floors leave a little room."""
    files = image_files([OWN_IMAGES])
    assert len(files) > 600
    digits = np.stack([normalize_digit(load_picture(f)[0], str(f)) for f in files])
    predicted = probabilities_of(shipped, 255 * digits).argmax(axis=1)
    labels = np.array([int(f.name[0]) for f in files])
    families = np.array([f.name.split("-")[1] for f in files])
    six = families != "softscan"
    assert np.mean(predicted[six] == labels[six]) >= 0.97
    for family in ("printed", "strokes", "scans", "photos", "notebook", "desk"):
        chosen = families == family
        assert np.mean(predicted[chosen] == labels[chosen]) >= 0.95, family
    assert np.mean(predicted[~six] == labels[~six]) >= 0.90


@pytest.fixture(scope="module")
def seven(mnist):
    """MNIST's first test digit (a 7) in [0, 1], and the same enlarged to 140x140."""
    digit = mnist["x_test"][0] / 255.0
    return digit, np.asarray(Image.fromarray(digit.astype(np.float32), mode="F").resize((140, 140)))


@pytest.mark.parametrize("polarity", ["dark-on-light", "light-on-dark"])
def test_ink_polarity_and_position_do_not_matter(seven, polarity):
    digit, big = seven
    page = np.zeros((300, 500), dtype=np.float32)
    page[150:290, 20:160] = big  # bottom-left corner
    if polarity == "dark-on-light":
        page = 1.0 - page
    normalized = normalize_digit(page)
    assert normalized.shape == (28, 28)
    assert np.abs(normalized - digit).mean() < 0.05


@pytest.mark.parametrize(
    ("paper", "ink"), [(0.45, 0.15), (0.6, 0.3), (0.55, 0.9), (0.35, 0.65), (0.8, 0.4), (0.2, 0.7)]
)
def test_ink_on_paper_of_any_grey_is_found_darker_or_lighter(seven, paper, ink):
    """Paper of a middle grey may carry darker ink (blue pen on brown paper in the shade)
    or lighter (chalk on a grey board): the ink is what stands out from it."""
    digit, big = seven
    page = np.full((300, 500), paper, dtype=np.float32)
    page[80:220, 180:320] = paper + (ink - paper) * big
    noise = np.random.default_rng(0).normal(0, 0.01, page.shape).astype(np.float32)
    normalized = normalize_digit(page + noise)
    assert np.abs(normalized - digit).mean() < 0.05


def test_a_margin_line_under_light_falling_off_across_the_page_is_erased(seven):
    """A legal pad photographed in uneven light: its paper is faintly 'inked' over a band
    too wide for a line, and the red margin line within it is erased all the same."""
    digit, big = seven
    page = np.full((300, 500), 0.9, dtype=np.float32)
    page[:, 58:62] = 0.5  # the margin
    page[80:220, 200:340] -= 0.55 * big
    page *= np.linspace(0.8, 1.0, 500, dtype=np.float32)[None, :]  # light falling off to the left
    page += np.random.default_rng(0).normal(0, 0.012, page.shape).astype(np.float32)
    assert np.abs(normalize_digit(page) - digit).mean() < 0.05


def test_a_sheet_on_a_dark_desk_is_cropped_but_a_light_bar_on_dark_is_not():
    desk = np.full((300, 400), 0.2, dtype=np.float32)
    desk[50:250, 100:300] = 0.95  # the sheet
    desk[100:200, 190:200] = 0.1  # a dark stroke on it
    top, bottom, left, right = page_bounds(desk)
    sheet = desk[top:bottom, left:right]
    assert sheet.shape[0] < 200 and sheet.shape[1] < 200 and np.median(sheet) == np.float32(0.95)
    chalk = np.zeros((300, 300), dtype=np.float32)
    chalk[40:260, 130:170] = 1.0  # a fat "1" in chalk: solid, but a bar
    assert page_bounds(chalk) == (0, 300, 0, 300)


def test_transparent_drawing_reads_as_dark_ink():
    rgba = np.zeros((100, 100, 4), dtype=np.uint8)
    rgba[20:80, 45:55] = (0, 0, 0, 255)  # a black bar on a fully transparent canvas
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    grey = load_picture(io.BytesIO(buffer.getvalue()), name="bar.png")[0]
    assert grey[50, 50] == 0.0 and grey[5, 5] == 1.0


# ------------------------------------------------------------------------ the script


def test_prints_digit_confidence_and_top_three(cli):
    image = own(7, "strokes", ".png")
    status, out, _ = cli(predict.main, str(image))
    assert status == 0
    line = out.strip()
    assert line.startswith(f"{image}: 7 (") and "top 3: 7 " in line


def test_json_output_and_folders(cli, tmp_path):
    for source in (own(3, "printed", ".png"), own(0, "scans", ".png")):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    status, out, _ = cli(predict.main, "--json", str(tmp_path))
    assert status == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [Path(r["path"]).name[0] for r in rows] == ["0", "3"]
    for row in rows:
        assert row["digit"] == int(Path(row["path"]).name[0])
        assert len(row["probabilities"]) == 10 and abs(sum(row["probabilities"]) - 1) < 1e-3
        assert row["confidence"] == pytest.approx(max(row["probabilities"]), abs=1e-5)


def test_show_input_saves_what_the_model_saw(cli, tmp_path):
    out_png = tmp_path / "seen.png"
    status, _, _ = cli(
        predict.main, "--show-input", str(out_png), str(sorted(OWN_IMAGES.glob("*-photos-*"))[0])
    )
    assert status == 0
    assert matplotlib.image.imread(out_png).shape[0] > 100


def bomb(path):
    # 8000 x 6000 one-bit pixels: 48 megapixels, yet a tiny file
    Image.new("1", (8000, 6000)).save(path)


BAD_FILES = {
    "notes.png": (lambda p: p.write_text("not an image at all"), "not an image that can be read"),
    "empty.jpg": (lambda p: p.write_bytes(b""), "not an image that can be read"),
    "cut.png": (
        lambda p: p.write_bytes(own(3, "printed", ".png").read_bytes()[:300]),
        "damaged or truncated",
    ),
    "bomb.png": (bomb, "over the 40 megapixel limit"),
}


def test_each_bad_file_gets_its_own_line_and_the_rest_are_classified(cli, tmp_path):
    for name, (make, _) in BAD_FILES.items():
        make(tmp_path / name)
    good = own(2, "printed", ".png")
    blank = tmp_path / "blank.png"  # read, as "not a digit": not an error
    Image.new("L", (200, 200), 255).save(blank)
    missing = tmp_path / "missing.png"
    status, out, err = cli(
        predict.main, *[str(tmp_path / n) for n in BAD_FILES], str(missing), str(blank), str(good)
    )
    assert status == 2
    assert out.splitlines()[0] == f"{blank}: not a digit (no ink: the picture is blank)"
    assert out.splitlines()[1].startswith(f"{good}: 2 (")
    lines = err.strip().splitlines()
    assert len(lines) == len(BAD_FILES) + 1 and "Traceback" not in err
    for line, (name, (_, reason)) in zip(lines[:-1], BAD_FILES.items(), strict=True):
        assert line.startswith(f"error: {tmp_path / name}: ") and reason in line
    assert lines[-1] == f"error: {missing}: no such file"


def test_bad_model_is_one_line(cli, tmp_path):
    status, _, err = cli(predict.main, "--model", str(tmp_path / "x.keras"), str(own(1, "printed")))
    assert status == 2 and err.count("\n") == 1 and "no model at" in err


# -------------------------------------------------------------------- property-based


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 60),
    st.integers(1, 60),
    st.sampled_from([np.float32, np.float64]),
    st.data(),
)
@pytest.mark.slow
def test_normalisation_gives_a_valid_digit_or_its_own_error(height, width, dtype, draw):
    values = draw.draw(
        st.lists(
            st.one_of(st.floats(-2, 3), st.sampled_from([np.nan, np.inf, -np.inf])),
            min_size=height * width,
            max_size=height * width,
        )
    )
    grey = np.array(values, dtype=dtype).reshape(height, width)
    try:
        digit = normalize_digit(grey)
    except DigitsError:
        return
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert np.all(np.isfinite(digit)) and digit.min() >= 0 and digit.max() <= 1


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_image_loading_on_any_bytes_gives_grey_levels_or_its_own_error(raw):
    try:
        grey = load_picture(io.BytesIO(raw), name="x")[0]
    except DigitsError:
        return
    assert grey.ndim == 2 and np.all((grey >= 0) & (grey <= 1))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 400), st.sampled_from([0, 10, 25, 50, 75, 99, 99.9, 99.99, 100]), st.data())
def test_fast_percentile_is_numpys_for_float32_images(size, q, draw):
    from digits.read.images import percentile

    seed = draw.draw(st.integers(0, 2**31))
    values = np.random.default_rng(seed).random(size).astype(np.float32)
    assert percentile(values, q) == float(np.percentile(values, q))


# ------------------------------------------------------------------ pictures a user gives


def test_predict_holds_no_picture_after_it_is_read(tmp_path, monkeypatch, cli):
    """A folder of any size runs in flat memory: no decoded picture outlives its line."""
    import digits.read.images

    for i in range(6):
        Image.new("L", (600, 400), 255).save(tmp_path / f"{i}.png")
    loaded = []  # weak references: they do not keep a picture alive
    load = digits.read.images.load_picture

    class Picture(np.ndarray):  # an ndarray that weak references can point to
        pass

    def tracked(path, name=None):
        held = sum(ref() is not None for ref in loaded)  # the loop's last one, at most
        assert held <= 1, f"{held} earlier pictures are still held"
        grey, scale = load(path, name)
        grey = grey.view(Picture)
        loaded.append(weakref.ref(grey))
        return grey, scale

    monkeypatch.setattr(digits.read.images, "load_picture", tracked)
    status, out, _ = cli(predict.main, "--backend", "keras", str(tmp_path))
    assert status == 0 and out.count("\n") == 6

def test_an_image_over_pillows_own_limit_is_called_too_large(tmp_path):
    from digits.read.images import load_picture

    path = tmp_path / "huge.png"
    Image.new("1", (20000, 9000)).save(path)  # 180 megapixels, a few kilobytes
    with pytest.raises(DigitsError, match="too large: over the 40 megapixel limit"):
        load_picture(path)[0]

def test_a_picture_that_may_not_be_read_says_so(tmp_path, monkeypatch):
    import digits.read.images

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(digits.read.images.Image, "open", denied)
    with pytest.raises(DigitsError, match=r"x.png: cannot be read \(Permission denied\)"):
        digits.read.images.load_picture(tmp_path / "x.png")[0]

def test_a_folder_that_cannot_be_read_is_named_in_a_warning(tmp_path, monkeypatch):
    import digits.read.images

    (tmp_path / "a.png").write_bytes(b"")
    real_walk = os.walk

    def walk(top, onerror=None):
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "locked")))
        yield from real_walk(top)

    monkeypatch.setattr(digits.read.images.os, "walk", walk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = digits.read.images.image_files([tmp_path])
    assert files == [tmp_path / "a.png"]
    (warning,) = [w for w in caught if issubclass(w.category, DigitsWarning)]
    assert "locked: cannot read this folder (Permission denied)" in str(warning.message)
