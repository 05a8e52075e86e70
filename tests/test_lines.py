"""The line reader's view of a picture (digits.read.strip), the lines made to train it
(digits.make.lines) and the fonts they are drawn in (digits.make.fonts)."""

import numpy as np
import pytest
from PIL import Image, ImageFont

from digits.make.fonts import SPLITS, families, glyph, split_fonts, split_of
from digits.make.lines import MAX_LABEL, PENS, elastic, hand_separator, label_of, make_lines, restyle, separated
from digits.make.synthetic import continental, skeleton
from digits.read.strip import (
    BLANK,
    CLASSES,
    FRAMES,
    HEIGHT,
    OTHER,
    ROWS,
    SEPARATORS,
    WIDTH,
    class_of,
    decode,
    line_input,
    text_of,
)


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


def test_every_digit_and_separator_has_a_class_of_its_own_and_back():
    symbols = [str(d) for d in range(10)] + list(SEPARATORS)
    classes = [class_of(ch) for ch in symbols]
    assert sorted(classes) == [c for c in range(CLASSES) if c not in (BLANK, OTHER)]
    assert [text_of(c) for c in classes] == symbols and text_of(OTHER) is None
    assert class_of(7) == class_of("7")


def test_a_lines_label_keeps_separators_drops_spaces_and_calls_the_rest_other():
    assert label_of("3.14") == [class_of(3), class_of("."), class_of(1), class_of(4)]
    assert label_of("1 250") == [class_of(d) for d in "1250"]
    assert label_of("5A%") == [class_of(5), OTHER, OTHER]


def test_other_pens_change_a_digits_strokes_not_its_size(mnist):
    digit = np.asarray(mnist["x_train"][0], dtype=np.float32)[4:24, 4:24] / 255
    big = np.asarray(Image.fromarray(digit, mode="F").resize((40, 40)))
    rng = np.random.default_rng(0)
    ink = {pen: restyle(big, pen, rng) for pen in set(PENS)}
    for pen, out in ink.items():
        assert out.shape == big.shape and 0 <= out.min() and out.max() <= 1, pen
    assert ink["felt"].sum() > 1.3 * ink["mnist"].sum() > 1.3 * 1.3 * ink["ballpoint"].sum()
    assert set(np.unique(ink["hard"])) == {0.0, 1.0}
    bent = elastic(big, rng, 0.05)
    assert bent.shape == big.shape and not np.array_equal(bent, big) and bent.sum() > 0.7 * big.sum()


def test_a_skeleton_is_one_pixel_wide_and_whole():
    ring = np.zeros((60, 60), dtype=bool)
    yy, xx = np.mgrid[:60, :60]
    distance = np.hypot(yy - 30, xx - 30)
    ring[(distance > 14) & (distance < 24)] = True  # a ring 10 pixels wide: an MNIST-like 0
    bar = np.zeros((30, 60), dtype=bool)
    bar[10:20, 5:55] = True
    thin_ring, thin_bar = skeleton(ring), skeleton(bar)
    # one pixel wide: along a line through the centre, the ring's skeleton is crossed twice
    assert thin_ring[30].sum() == 2 and thin_ring[:, 30].sum() == 2
    assert 16 <= np.abs(np.nonzero(thin_ring[30])[0] - 30).min() <= 21
    assert thin_bar.sum(axis=0)[10:50].max() == 1 and thin_bar[:, 10:50].any(axis=0).all()
    # no cut in it: the ring's skeleton is one closed loop (every pixel has two neighbours)
    padded = np.pad(thin_ring, 1).astype(int)
    neighbours = sum(np.roll(padded, (dy, dx), (0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)) - padded
    assert (neighbours[1:-1, 1:-1][thin_ring] >= 2).all()


def test_continental_flags_a_share_of_ones_and_crosses_sevens_and_touches_nothing_else(mnist):
    x, y = mnist["x_train"][:3000], mnist["y_train"][:3000]
    out = continental(x, y, 0.3, 5)
    changed = np.any(out != x, axis=(1, 2))
    for digit in (1, 7):
        assert changed[y == digit].mean() == pytest.approx(0.3, abs=0.02)
    assert not changed[(y != 1) & (y != 7)].any()
    np.testing.assert_array_equal(continental(x, y, 0.3, 5), out)  # the seed decides
    assert np.all(out >= x)  # ink is added, none taken away
    # a flag adds ink left of the 1's top, down to well above its middle; a bar crosses
    # the 7 below its middle, on both sides of its stem
    for i in np.nonzero(changed & (y == 1))[0][:20]:
        added = (out[i].astype(int) - x[i]) > 60
        top = np.nonzero((x[i] > 127).any(axis=1))[0][0]
        rows, cols = np.nonzero(added)
        assert rows.max() < 18 and rows.min() >= top - 3  # the pen's round end
        assert cols.min() < np.nonzero(x[i][top] > 127)[0].mean() - 1.5
    for i in np.nonzero(changed & (y == 7))[0][:20]:
        rows, cols = np.nonzero((out[i].astype(int) - x[i]) > 60)
        ink = np.nonzero((x[i] > 127).any(axis=1))[0]
        assert rows.mean() > (ink[0] + ink[-1]) / 2 - 1 and cols.max() - cols.min() >= 4


def test_separators_are_written_where_they_belong_and_numbers_with_them_fit_a_label():
    rng = np.random.default_rng(0)
    dot, top = hand_separator(".", 40, 5, rng)
    assert top > 30 and dot.shape[0] < 12  # a dot sits on the baseline
    for _ in range(20):  # a slash leans right, from half the digits' height to all of it
        slash, top = hand_separator("/", 40, 5, rng)
        assert 20 <= slash.shape[0] <= 40 and top + slash.shape[0] <= 40
        rows = np.nonzero(slash > 0.5)
        assert rows[1][rows[0] == rows[0].min()].mean() > rows[1][rows[0] == rows[0].max()].mean()
    for _ in range(200):
        text = separated(rng)
        label = label_of(text)
        assert 2 <= len(label) <= MAX_LABEL and OTHER not in label
        assert any(ch in SEPARATORS + " " for ch in text)


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
        assert ((classes >= 1) & (classes < CLASSES)).all()
        assert (label[1 + label[0] :] == BLANK).all()


def test_made_lines_are_the_same_on_any_number_of_processes(mnist, fonts, lines):
    x, y = make_lines("dev", mnist, 24, processes=2, chunk=8)
    np.testing.assert_array_equal(x, lines[0])
    np.testing.assert_array_equal(y, lines[1])
