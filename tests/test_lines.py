"""The line reader's view of a picture (digits.read.strip), the lines made to train it
(digits.make.lines) and the fonts they are drawn in (digits.make.fonts)."""

import numpy as np
import pytest
from PIL import ImageFont

from digits.make.fonts import SPLITS, families, glyph, split_fonts, split_of
from digits.make.lines import MAX_LABEL, make_lines
from digits.read.strip import BLANK, CLASSES, FRAMES, HEIGHT, OTHER, ROWS, WIDTH, decode, line_input


def test_every_family_is_in_exactly_one_split_and_each_split_has_many(fonts):
    found = families()
    by_split = {s: {f for f in found if split_of(f) == s} for s in SPLITS}
    assert sum(len(v) for v in by_split.values()) == len(found)
    assert len(by_split["train"]) >= 100 and len(by_split["dev"]) >= 20 and len(by_split["test"]) >= 20
    assert split_of("Some Family") == split_of("some family")  # by name, case aside


def test_a_glyph_is_its_ink_cropped_with_a_pixel_of_margin_placed_from_the_baseline(fonts):
    font = ImageFont.truetype(split_fonts("dev")[0], 40)
    ink, box = glyph(font, "7")
    assert ink.shape == (box[3] - box[1] + 2, box[2] - box[0] + 2)
    assert ink[[0, -1]].max() == 0 and ink[:, [0, -1]].max() == 0 and ink.max() > 200
    assert box[1] < -20 and abs(box[3]) <= 3  # a digit stands on the baseline
    period, below = glyph(font, ".")[1], glyph(font, ",")[1]
    assert period[1] > box[1] + 20 and below[3] > period[3]  # low; a comma reaches below
    assert glyph(font, " ") is None


def test_a_line_fills_28_rows_and_its_placement_maps_back_to_the_ink():
    ink = np.zeros((200, 600), dtype=np.float32)
    ink[50:150, 100:140] = 1.0  # a bar 100 tall at columns 100-139
    ink[50:150, 400:440] = 1.0
    strip, placement = line_input(ink)
    assert strip.shape == (HEIGHT, WIDTH) and strip.max() == 255
    rows = np.flatnonzero(strip.max(axis=1) > 0)
    assert rows[0] == 2 and rows[-1] == 2 + ROWS - 1
    # the second bar's strip columns map back to its ink columns
    cols = np.flatnonzero(strip[HEIGHT // 2] > 128)
    second = cols[cols > cols.mean()]
    left, right = placement.columns(second[0], second[-1] + 1)
    assert abs(left - 400) <= 4 and abs(right - 440) <= 4


def test_a_line_too_long_for_the_strip_is_squeezed_to_fit():
    ink = np.ones((10, 1000), dtype=np.float32)
    strip, _ = line_input(ink)
    assert strip[:, WIDTH - 2 :].max() == 0 and strip[:, WIDTH - 3].max() > 0


def one_hot_frames(path):
    frames = np.zeros((FRAMES, CLASSES), dtype=np.float32)
    frames[np.arange(FRAMES), BLANK] = 1.0
    for frame, cls in path.items():
        frames[frame] = 0.0
        frames[frame, cls] = 1.0
    return frames


def test_decoding_joins_repeats_and_drops_blanks():
    # 1 1 (one symbol over two frames), blank, 1 again (a second 0), then something else
    frames = one_hot_frames({3: 1, 4: 1, 6: 1, 10: OTHER})
    symbols = decode(frames)
    assert [(s.cls, s.first, s.last) for s in symbols] == [(1, 3, 4), (1, 6, 6), (OTHER, 10, 10)]
    assert [s.is_digit for s in symbols] == [True, True, False]
    assert [s.confidence for s in symbols] == [1.0, 1.0, 1.0]


@pytest.fixture(scope="module")
def lines(mnist, fonts):
    return make_lines("dev", mnist, 24, processes=1, chunk=8)


def test_made_lines_have_labels_that_fit_the_frames(lines):
    x, y = lines
    assert x.shape == (24, HEIGHT, WIDTH) and x.dtype == np.uint8 and x.max() == 255
    lengths = y[:, 0]
    assert (lengths >= 1).all() and (lengths <= MAX_LABEL).all()
    for label in y:
        classes = label[1 : 1 + label[0]]
        assert ((classes >= 1) & (classes <= OTHER)).all()
        assert (label[1 + label[0] :] == BLANK).all()


def test_made_lines_are_the_same_on_any_number_of_processes(mnist, fonts, lines):
    x, y = make_lines("dev", mnist, 24, processes=2, chunk=8)
    np.testing.assert_array_equal(x, lines[0])
    np.testing.assert_array_equal(y, lines[1])
