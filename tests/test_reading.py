"""Reading whole pictures: numbers, "not a digit", and confidences that mean what they say."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from benchmarks.reading import answers, scores
from digits.cli import predict
from digits import DEFAULT_DETECTOR
from digits.make.calibration import fit_temperature, softmax, split_head, with_temperature
from digits.read.images import load_picture, locate_ink, normalize_digit, remove_form_lines
from digits.read.inference import predict as probabilities_of
from digits.read.strip import BLANK, CLASSES, FRAMES, OTHER, Symbol, class_of, line_input, text_of
from digits.metrics import expected_calibration_error
from digits.read.reading import (
    DETECTOR_CLEAR,
    NOTHING_READ,
    SHIFTS,
    SOMETHING_ELSE,
    STRING_CONFIDENCE_POWER,
    SURE_ALONE,
    SURE_IN_LINE,
    SURE_UNREAD,
    UNREAD_WIDEST,
    Detector,
    Digit,
    Reader,
    Reading,
    Separator,
    _as_separator,
    _dated,
    _narrow,
    _small,
    _sure_digit,
    _timed,
    _trimmed,
    is_date_or_fraction,
    is_time,
    lines_of,
    read_line,
    spaces_in,
)
from digits.provenance import read_record
from digits.make.synthetic import TEMPLATES, pen_written

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def reader(shipped_reader):
    return shipped_reader


@pytest.fixture(scope="module")
def model(reader):
    return reader.model


@pytest.fixture(scope="module")
def detector(reader):
    return reader.detector


def read(reader, grey, **options):
    """The reading of a picture as predict.py and the page get it (to_json)."""
    if options:
        reader = Reader(reader.model, reader.lines, reader.detector, **options)
    return reader.read(grey).to_json()


# ------------------------------------------------------------------------ the floors


@pytest.fixture(scope="module")
def figures(reader):
    """The test split read as predict.py reads it (python -m benchmarks.reading prints the
    same figures, beside the reader of another checkout)."""
    return scores(answers(lambda grey, name: reader.read(grey, name).to_json(inputs=False)))


# What the shipped reader keeps on the test split, a little under what it measured
# (numbers 94.7%, touching 86.7%, lined or boxed 98.3%, several lines 90.0%, separators
# 96.7% with none lost or misread, non-digits 96.4%, single digits 98.1%, printed ones
# 98.6%, soft scanned ones 95.3%). The reading issue's targets (benchmarks.reading.
# TARGETS) are higher, and not all met yet: the benchmark prints both.
FLOORS = {
    "numbers": 0.92,
    "touching": 0.83,
    "lined or boxed": 0.9,
    "separators": 0.9,
    "nondigits": 0.95,
    "single digits": 0.97,
    "printed single digits": 0.97,
    "soft scanned single digits": 0.93,
}


@pytest.mark.parametrize("what", list(FLOORS))
@pytest.mark.slow
def test_the_test_split_is_read_above_the_floors(figures, what):
    failures = figures["wrong_numbers"] + figures["accepted_nondigits"] + figures["single_digit_failures"]
    assert figures[what] >= FLOORS[what], failures


@pytest.mark.slow
def test_separators_are_seldom_lost_and_several_lines_and_fine_pens_read(figures):
    assert figures["merges"] <= 0.04, figures["wrong_numbers"]  # one picture of the 30 at most
    assert figures["numbers_by_family"]["lines"] >= 0.85, figures["wrong_numbers"]
    assert figures["numbers_by_family"]["finepen"] >= 0.85, figures["wrong_numbers"]


# ------------------------------------------------------------------------ reading


def test_one_digit_reads_as_a_single_digit_always_did_unless_it_is_narrow(reader, model, mnist):
    """A wide digit: the digit model's probabilities exactly; a narrow one (a 1 here) is
    read by both (test_a_one_with_a_long_flag_reads_as_one), and reads right."""
    narrow = 0
    for image, label in zip(mnist["x_test"][:20], mnist["y_test"][:20]):
        grey = image / 255.0
        answer = read(reader, grey)
        before = probabilities_of(model, 255 * normalize_digit(grey)[None])[0]
        assert len(answer["digits"]) == 1
        if _narrow(locate_ink(grey)[0]):
            narrow += 1
            assert answer["digit"] == label
        else:
            np.testing.assert_allclose(answer["probabilities"], [float(p) for p in before], atol=1e-6)
            assert answer["digit"] == int(before.argmax())
    assert narrow > 0  # a 1 among them


def constant_model(*probabilities):
    """A stand-in network that gives every input the same `probabilities`."""
    return lambda images, training=False: np.tile(np.asarray(probabilities, np.float32), (len(images), 1))


def test_something_else_alone_is_a_digit_where_the_digit_model_and_the_detector_agree():
    """The line reader's "something else" refuses a single symbol unless the digit model is
    SURE_ALONE sure and the detector's "not a digit" is under DETECTOR_CLEAR of its threshold."""

    threshold = 0.5  # the detector's
    ink = np.zeros((40, 20), np.float32)
    ink[4:36, 8:12] = 1.0  # a bar: a 1, or an I
    box = {"left": 0, "top": 0, "width": 20, "height": 40}

    def single(detector_says, sure=0.95):
        """What _single makes of the bar with the digit model `sure` it is a 1."""
        one = np.full(10, (1 - sure) / 9, np.float32)
        one[1] = sure
        says = None if detector_says is None else constant_model(1 - detector_says, detector_says)
        detector = None if says is None else Detector(says, threshold)
        return Reader(constant_model(*one), None, detector)._single(ink, box, None)

    assert single(0.05).digit == 1 and single(0.05).reason is None
    assert single(threshold * DETECTOR_CLEAR + 0.01).reason == SOMETHING_ELSE  # the detector not clear
    assert single(0.05, 0.85).reason == SOMETHING_ELSE  # the digit model under SURE_ALONE
    assert single(None).reason == SOMETHING_ELSE  # no detector to agree
    assert SURE_ALONE > 0.85


def test_a_line_the_line_reader_reads_nothing_in_is_a_digit_where_the_other_two_agree():
    """A line reader blank at every frame (a digit scanned small and soft is a blur to it)
    leaves the ink to the digit model and the detector: a digit where the digit model is
    SURE_UNREAD sure and the detector clear, and the ink not over UNREAD_WIDEST times as
    wide as tall; else "not a digit" because nothing in it reads as one."""
    threshold = 0.5  # the detector's
    ink = np.zeros((40, 30), np.float32)
    ink[4:36, 6:24] = 0.4  # a blur of grey
    frames = np.zeros((FRAMES, CLASSES), np.float32)
    frames[:, BLANK] = 1.0

    def blank(strips, training=False):
        """A line reader that reads nothing anywhere."""
        return np.tile(frames, (len(strips), 1, 1))

    def read(detector_says, sure=0.99):
        three = np.full(10, (1 - sure) / 9, np.float32)
        three[3] = sure
        detector = Detector(constant_model(1 - detector_says, detector_says), threshold)
        return Reader(constant_model(*three), blank, detector).read(ink)

    assert read(0.05).number == "3"
    assert read(0.05).digits[0].box == {"left": 6, "top": 4, "width": 18, "height": 32}
    refused = read(threshold * DETECTOR_CLEAR + 0.01)  # the detector not clear
    assert refused.number is None and refused.reason == NOTHING_READ
    assert read(0.05, 0.95).reason == NOTHING_READ  # under SURE_UNREAD, though over SURE_ALONE
    assert SURE_ALONE < 0.95 < SURE_UNREAD < 0.99
    ink[:] = 0.0
    ink[18:22, 2:28] = 0.4  # a dash
    assert 26 > UNREAD_WIDEST * 4
    assert read(0.05).reason == NOTHING_READ


def test_something_else_apart_in_a_number_is_a_digit_where_the_digit_model_and_the_detector_agree():
    """In a line of several pieces, a piece the line reader calls "something else" is a
    digit when the digit model and the detector agree on it, as a single symbol is, but
    only where the line reader reads at least as many digits in the line: a row of
    symbols (")}") the digit model takes for 1s stays "not a digit"."""

    def line_reader(*classes):
        """Frames that spell `classes` (OTHER or a digit's class), 95% sure, four frames apart."""
        frames = np.zeros((FRAMES, CLASSES), np.float32)
        frames[:, BLANK] = 1.0
        for i, cls in enumerate(classes):
            frames[4 + 4 * i] = 0.05 / (CLASSES - 1)
            frames[4 + 4 * i, cls] = 0.95
        return lambda strips, training=False: np.tile(frames, (len(strips), 1, 1))

    threshold = 0.5  # the detector's
    ink = np.zeros((40, 60), np.float32)
    ink[4:36, 8:12] = ink[4:36, 40:44] = 1.0  # two bars, apart
    one = np.full(10, 0.05 / 9, np.float32)
    one[1] = 0.95  # the digit model: 95% sure of a 1

    def number(classes, detector_says):
        detector = Detector(constant_model(1 - detector_says, detector_says), threshold)
        return Reader(constant_model(*one), line_reader(*classes), detector).read(ink).number

    assert number([OTHER, class_of(1)], 0.05) == "11"
    assert number([OTHER, class_of(1)], threshold * DETECTOR_CLEAR + 0.01) is None  # the detector not clear
    assert number([OTHER, OTHER], 0.05) is None  # no digit in the line
    assert number([class_of(1), class_of(1)], 0.05) == "11"


def test_an_underline_and_a_box_are_left_out_when_a_number_is_cut_into_digits():
    """remove_form_lines: a rule as wide as the line of ink, and a box's sides between two
    rules, go; the digits and their own short strokes stay."""
    ink = np.zeros((60, 120), np.float32)
    ink[10:40, 20:24] = 1.0  # a 1
    ink[10:13, 50:80] = 1.0  # a 7's bar, half the width of the digits' ink
    ink[10:40, 77:80] = 1.0
    assert remove_form_lines(ink) is ink  # no rule: the very ink
    underlined = ink.copy()
    underlined[45:47, 5:115] = 1.0
    np.testing.assert_array_equal(remove_form_lines(underlined), ink)
    boxed = underlined.copy()
    boxed[3:5, 5:115] = 1.0  # the box's top
    boxed[3:47, 5:7] = boxed[3:47, 113:115] = 1.0  # its sides
    np.testing.assert_array_equal(remove_form_lines(boxed), ink)


def test_a_one_with_a_long_flag_reads_as_one(reader):
    """The digit model alone reads 10 of these 20 pen-drawn 1s (a flag at the top, as
    many people write it) as 7; with the line reader, as a narrow digit is read, 15."""
    ones = 0
    for seed in range(20):
        picture = pen_written([1], TEMPLATES, np.random.default_rng(seed)).convert("L")
        ones += read(reader, np.asarray(picture, dtype=np.float32) / 255)["number"] == "1"
    assert ones >= 11


def test_the_line_reader_reads_the_strip_moved_a_row_each_way(reader, mnist):
    """read_line: the mean of three readings, and line_input leaves the rows that np.roll
    wraps round blank, so the moved strips hold the same ink."""
    ink = np.concatenate(list(mnist["x_test"][:4]), axis=1) / 255.0
    strip, _ = line_input(ink)
    assert not strip[:2].any() and not strip[-2:].any()
    moved = np.stack([strip, strip[list(range(1, 32)) + [0]], strip[[31] + list(range(31))]])
    assert sorted(SHIFTS) == [-1, 0, 1]
    np.testing.assert_allclose(read_line(reader.lines, strip), probabilities_of(reader.lines, moved).mean(axis=0), atol=1e-6)


def test_three_mnist_digits_side_by_side_read_as_a_number(reader, mnist):
    """The issue's example: strips of three MNIST test digits came back as one digit."""
    x, y = mnist["x_test"], mnist["y_test"]
    for start in range(0, 15, 3):
        strip = np.concatenate(list(x[start : start + 3]), axis=1) / 255.0
        answer = read(reader, strip)
        assert answer["number"] == "".join(str(d) for d in y[start : start + 3])
        for i, d in enumerate(answer["digits"]):
            centre = d["box"]["left"] + d["box"]["width"] / 2
            assert 28 * i <= centre <= 28 * (i + 1)


def test_two_mnist_digits_that_overlap_read_as_two(reader, mnist):
    """Touching digits: the second drawn 8 pixels into the first's 28-pixel frame."""
    x, y = mnist["x_test"], mnist["y_test"]
    right = 0
    for start in range(0, 40, 2):
        strip = np.zeros((28, 48), dtype=np.float32)
        strip[:, :28] = x[start]
        strip[:, 20:] = np.maximum(strip[:, 20:], x[start + 1])
        right += read(reader, strip / 255.0)["number"] == f"{y[start]}{y[start + 1]}"
    assert right >= 16  # of 20


def test_boxes_are_in_the_pictures_own_pixels(reader, tmp_path):
    """A picture five times as large as load_picture's working size: the same boxes, five
    times over."""
    from PIL import Image

    path = NUMBER
    small = load_picture(path)[0]
    big = Image.open(path).convert("L").resize((small.shape[1] * 5, small.shape[0] * 5))
    big_path = tmp_path / "big.png"
    big.save(big_path)
    grey, scale = load_picture(big_path)
    assert scale > 1  # reduced to the working size as it was read
    a, b = reader.read(small).to_json(), reader.read(grey, scale=scale).to_json()
    assert a["number"] == b["number"]
    for small_box, big_box in zip(a["digits"], b["digits"]):
        for key in ("left", "top", "width", "height"):
            assert abs(big_box["box"][key] - 5 * small_box["box"][key]) <= 5 * 3


def test_a_letter_among_digits_makes_it_not_a_number(reader, mnist, fonts):
    from PIL import Image, ImageDraw, ImageFont

    from digits.make.fonts import split_fonts

    font = ImageFont.truetype(split_fonts("test")[0], 60)
    image = Image.new("L", (300, 100), 255)
    ImageDraw.Draw(image).text((20, 10), "12K4", font=font, fill=0)
    answer = read(reader, np.asarray(image, dtype=np.float32) / 255)
    assert answer["number"] is None
    assert any(d["digit"] is None for d in answer["digits"])


def fake_digit(digit, left, width=20, height=30, confidence=0.9):
    box = {"left": left, "top": 0, "width": width, "height": height}
    return Digit(digit, confidence, np.eye(10)[digit], box, np.zeros((28, 28)))


def test_a_reading_keeps_separators_and_spaces_as_written_and_its_digits_alone():
    dot = Separator(".", 0.8, {"left": 25, "top": 25, "width": 4, "height": 4})
    line = Reading.of([fake_digit(3, 0), dot, fake_digit(1, 32), fake_digit(4, 80)], {3})
    assert line.number == "3.1 4" and [d.digit for d in line.digits] == [3, 1, 4]
    assert line.confidence == pytest.approx((0.9**3 * 0.8) ** STRING_CONFIDENCE_POWER)
    answer = line.to_json(inputs=False)
    assert answer["number"] == "3.1 4" and answer["separators"][0]["separator"] == "."
    assert answer["lines"] == ["3.1 4"] and answer["digit"] is None  # several symbols
    both = Reading.of_lines([line, Reading.of([fake_digit(7, 0)])])
    assert both.number == "3.1 4\n7" and both.to_json(inputs=False)["lines"] == ["3.1 4", "7"]
    refused = Reading.of_lines([line, Reading(None, (), "not a digit: why")])
    assert refused.number is None and refused.reason == "line 2 of 2: not a digit: why"


def test_a_space_is_a_gap_wider_than_the_lines_own_gaps_and_half_a_digit():
    evenly_wide = [fake_digit(d, 40 * i) for i, d in enumerate([2, 0, 6, 3, 7])]  # gaps of 20
    assert spaces_in(evenly_wide) == set()
    grouped = [fake_digit(1, 0), fake_digit(2, 60), fake_digit(5, 82), fake_digit(0, 104)]
    assert spaces_in(grouped) == {1}
    assert spaces_in([fake_digit(1, 0), fake_digit(2, 24)]) == set()


def test_a_short_mark_between_digits_or_a_leading_dash_is_a_separator_whatever_the_line_reader_read():
    symbols = [Symbol(class_of(ch), i, i, 0.9) for i, ch in enumerate("4861")]
    boxes = [{"left": 20 * i, "top": 0, "width": 12, "height": h} for i, h in enumerate((40, 14, 40, 38))]
    assert _small(symbols, boxes) == [False, True, False, False]
    # not at a line's end, nor without two other symbols to measure it against
    assert _small(symbols[1:], boxes[1:]) == [False, False, False]
    assert _small(symbols[:3], boxes[:3]) == [False, True, False]
    assert _small(symbols[:2] + [Symbol(class_of("."), 2, 2, 0.9)], boxes[:3]) == [False, False, False]
    frames = np.zeros((4, CLASSES))
    frames[1, [class_of("8"), class_of(","), class_of("."), class_of("-")]] = 0.85, 0.09, 0.05, 0.01
    mark = _as_separator(frames, symbols[1])
    assert text_of(mark.cls) == "," and mark.confidence == pytest.approx(0.09 / 0.15)
    # A line's first mark, short and wider than tall, is a minus: "-8" read as 28 was wrong
    dash, eight = {"left": 0, "top": 18, "width": 16, "height": 4}, {"left": 24, "top": 0, "width": 22, "height": 40}
    two_eight = [Symbol(class_of(ch), i, i, 0.9) for i, ch in enumerate("28")]
    assert _small(two_eight, [dash, eight]) == [True, False]
    assert _small(two_eight, [{**dash, "width": 3}, eight]) == [False, False]  # a short 1 is no minus
    assert _small(two_eight, [{**dash, "height": 30, "width": 40}, eight]) == [False, False]  # a tall one no mark
    assert _small(two_eight[:1], [dash]) == [False]  # nor a line of one symbol
    minus = _as_separator(frames, symbols[1], first=True)
    assert text_of(minus.cls) == "-" and minus.confidence == pytest.approx(0.01 / 0.15)


def test_a_short_mark_stays_the_digit_both_networks_are_sure_of():
    """A small 8 among taller digits ("684" had read 6:4): the line reader SURE_IN_LINE sure
    of it and the digit model reading the same digit keep it a digit."""
    eight = Symbol(class_of("8"), 1, 1, 0.999)
    says = np.eye(10)
    assert _sure_digit(eight, says[8])
    assert not _sure_digit(eight, says[0])  # a comma the line reader took for a 6 or an 8
    assert not _sure_digit(replace(eight, confidence=SURE_IN_LINE - 0.01), says[8])


def line_of(text, slash_at=()):
    """Symbols spelling `text` one frame each, and frames in which each is 0.9 probable
    (a "/" 0.8, a 1 0.2 beside it) and the frames in `slash_at` give "/" 0.3 besides."""
    symbols = [Symbol(class_of(ch), i, i, 0.9) for i, ch in enumerate(text)]
    frames = np.zeros((len(text), CLASSES))
    for i, ch in enumerate(text):
        frames[i, class_of(ch)] = 0.8 if ch == "/" else 0.9
        frames[i, class_of("1")] += 0.2 if ch == "/" else 0.0
        frames[i, class_of("/")] += 0.3 if i in slash_at else 0.0
    return symbols, frames


def test_a_slash_stays_only_in_a_date_or_a_fraction():
    for text in ("12/05", "3/4", "15/16", "12/2026", "12/05/26", "12/05/2026", "2026/12/05"):
        assert is_date_or_fraction(text), text
    for text in ("6/397", "436/89", "9/53/5", "12/05/202", "2026/12", "1/2/3/4", "12/-5", "/1", "12"):
        assert not is_date_or_fraction(text), text

    def read(text, slash_at=()):
        return "".join(text_of(s.cls) for s in _dated(*line_of(text, slash_at)))

    assert read("12/05/2026") == "12/05/2026" and read("3/4") == "3/4"
    # a slanted 1 read as a "/": the likeliest digit there, as sure as its share of the ten
    assert read("6/397") == "61397" and read("6/9-8326") == "619-8326"
    one = _dated(*line_of("6/397"))[1]
    assert one.confidence == pytest.approx(1.0)
    # a date whose second slash was read as a 1: the 1 that makes it a date is the slash,
    # of several the one "/" is likeliest at
    assert read("26/3217549") == "26/32/7549"
    assert read("2026/1112", slash_at={6}) == "2026/1/12"
    assert read("2026/1112", slash_at={7}) == "2026/11/2"
    # something else in it may yet be a digit: "?" does not unmake a date
    symbols, frames = line_of("12/05")
    symbols[0] = replace(symbols[0], cls=OTHER)
    assert [s.cls for s in _dated(symbols, frames)] == [s.cls for s in symbols]


def test_a_colon_stays_only_in_a_time():
    for text in ("9:30", "12:30", "12:30:05"):
        assert is_time(text), text
    for text in ("29:4", "1725:08", "123:45", "12:3:45", ":30", "12:30:"):
        assert not is_time(text), text

    def read(text):
        symbols = [Symbol(class_of(ch), i, i, 0.9) for i, ch in enumerate(text)]
        return "".join(text_of(s.cls) for s in _timed(symbols))

    assert read("12:30") == "12:30" and read("1725:08") == "172508" and read("99033:7") == "990337"
    assert read("12.5") == "12.5"


def test_separators_at_a_lines_ends_are_dropped_but_a_leading_minus():
    def symbols(text):
        return [Symbol(class_of(ch), i, i, 1.0) for i, ch in enumerate(text)]

    assert [text_of(s.cls) for s in _trimmed(symbols("-12."))] == list("-12")
    assert [text_of(s.cls) for s in _trimmed(symbols(".5,"))] == ["5"]
    assert _trimmed(symbols("-")) == [] and _trimmed(symbols("/:")) == []


def test_ink_splits_into_lines_at_blank_rows_an_underline_staying_with_its_line():
    ink = np.zeros((100, 60), np.float32)
    ink[5:30, 10:50] = 1  # a line of writing
    ink[33:35, 5:55] = 1  # its underline
    ink[60:90, 10:40] = 1  # a second line
    assert lines_of(ink) == [(0, 45), (45, 100)]  # cut midway between the lines
    assert lines_of(ink[:40]) == [(0, 40)]


def test_two_numbers_one_under_the_other_read_line_by_line(reader, mnist):
    x, y = mnist["x_test"], mnist["y_test"]
    page = np.zeros((28 * 3, 28 * 3), np.float32)
    page[:28, :56] = np.concatenate([x[0], x[1]], axis=1) / 255
    page[56:, :84] = np.concatenate([x[2], x[3], x[4]], axis=1) / 255
    answer = read(reader, page)
    assert answer["lines"] == [f"{y[0]}{y[1]}", f"{y[2]}{y[3]}{y[4]}"], answer.get("reason")
    assert answer["number"] == "\n".join(answer["lines"]) and len(answer["digits"]) == 5


def test_a_blank_page_is_not_a_digit(reader):
    answer = read(reader, np.ones((100, 100), dtype=np.float32))
    assert answer["number"] is None and answer["digits"] == [] and "no ink" in answer["reason"]


def test_what_the_model_is_unsure_of_is_not_a_digit(reader):
    image = load_picture(sorted((TESTS / "digit_images").glob("7-strokes-*"))[0])[0]
    sure = read(reader, image)
    assert sure["digit"] == 7
    unsure = read(reader, image, min_confidence=1.01)
    assert unsure["digit"] is None and unsure["number"] is None
    assert "not a digit" in unsure["reason"] and unsure["digits"][0]["digit"] is None


def test_the_shipped_detector_and_its_threshold(detector):
    record = read_record(ROOT / DEFAULT_DETECTOR)
    assert detector.threshold == record["threshold"]
    assert record["held_out_digits_refused"] <= 0.01
    assert record["held_out_nondigits_refused"] >= 0.9


# ------------------------------------------------------------------------ calibration


def test_expected_calibration_error_by_hand():
    # two bins used: 0.9 confident and right 1 of 2 times; 0.6 confident and right
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    y = np.array([0, 1, 0, 1])
    assert expected_calibration_error(p, y, bins=10) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)


def test_temperature_is_recovered_from_its_own_samples():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (20000, 10))
    truth = 2.5
    p = softmax(logits, truth)
    labels = np.array([rng.choice(10, p=row) for row in p])
    assert fit_temperature(logits, labels) == pytest.approx(truth, rel=0.05)


def test_temperature_changes_confidence_never_the_digit(model, mnist):
    x = mnist["x_test"][:200]
    plain = with_temperature(model, 1.0)
    assert split_head(model)[1] < 1  # the shipped model was sharpened
    assert split_head(plain)[1] == 1.0
    sharp, soft = probabilities_of(model, x), probabilities_of(plain, x)
    np.testing.assert_array_equal(sharp.argmax(axis=1), soft.argmax(axis=1))
    assert sharp.max(axis=1).mean() > soft.max(axis=1).mean()


def test_the_default_model_is_calibrated_on_the_test_images():
    report = json.loads((ROOT / "models" / "accurate.evaluation.json").read_text())
    assert report["expected_calibration_error"] < 0.01
    assert report["expected_calibration_error_without_temperature"] > 0.05


# ------------------------------------------------------------------------ predict.py


NUMBER = sorted((TESTS / "number_images").glob("*-strokes-*.png"))[0]
LETTER = sorted((TESTS / "nondigit_images").glob("letters-*"))[0]


def test_predict_prints_a_number_and_its_lowest_confidence(cli):
    status, out, _ = cli(predict.main, str(NUMBER))
    assert status == 0
    assert out.strip().startswith(f"{NUMBER}: {NUMBER.name.split('-')[0]} (lowest digit confidence ")


def test_predict_json_for_a_number_and_for_a_non_digit(cli):
    status, out, _ = cli(predict.main, "--json", str(NUMBER), str(LETTER))
    assert status == 0, "a picture read as 'not a digit' was still read"
    number, letter = map(json.loads, out.splitlines())
    assert number["number"] == NUMBER.name.split("-")[0]
    assert len(number["digits"]) == len(number["number"])
    for d, expected in zip(number["digits"], number["number"], strict=True):
        assert d["digit"] == int(expected) and len(d["probabilities"]) == 10
        assert set(d["box"]) == {"left", "top", "width", "height"}
    lefts = [d["box"]["left"] for d in number["digits"]]
    assert lefts == sorted(lefts)
    assert number["digit"] is None and number["confidence"] is None, "one-digit pictures' fields"
    assert letter["number"] is None
    assert any(d["digit"] is None and d["reason"].startswith("not a digit") for d in letter["digits"])


def test_min_confidence_overrides_the_threshold(cli):
    image = str(sorted((TESTS / "digit_images").glob("7-strokes-*"))[0])
    status, out, _ = cli(predict.main, "--json", "--min-confidence", "1", image)
    assert status == 0 and json.loads(out)["digit"] is None
    status, _, err = cli(predict.main, "--min-confidence", "2", image)
    assert status == 2 and "not a probability from 0 to 1" in err


# ------------------------------------------------------------------------ the detector


def test_synthetic_training_pictures_are_model_inputs(fonts):
    from digits.make.detector import synthetic_digits, synthetic_nondigits

    rng = np.random.default_rng(0)
    digits = synthetic_digits(rng, 3)
    others = synthetic_nondigits(rng, 12)  # each picture judged whole
    assert digits.shape == (6, 28, 28) and others.shape == (12, 28, 28)
    for images in (digits, others):
        assert images.min() >= 0 and images.max() <= 255 and images.max() > 200


class Scores:
    """A stand-in detector that says "not a digit" with the probability each image holds."""

    def predict(self, images, batch_size=1000, verbose=0):
        p = np.asarray(images)[:, 0, 0] / 255
        return np.stack([1 - p, p], axis=1)

    def __call__(self, images, training=False):
        return self.predict(images)


def test_the_threshold_refuses_at_most_one_percent_of_held_out_digits():
    from digits.make.detector import choose_threshold

    digits = np.zeros((1000, 28, 28), dtype=np.float32)
    digits[:, 0, 0] = np.linspace(0, 255 * 0.9, 1000)  # a few digits look odd to it
    others = np.full((100, 28, 28), 255 * 0.95, dtype=np.float32)
    x = np.concatenate([digits, others])
    y = np.concatenate([np.zeros(len(digits), int), np.ones(len(others), int)])
    chosen = choose_threshold(Scores(), (x, y))
    assert chosen["held_out_digits_refused"] <= 0.01
    assert chosen["held_out_nondigits_refused"] == 1.0
    assert 0.5 <= chosen["threshold"] < 0.95
