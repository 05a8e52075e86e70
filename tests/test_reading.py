"""Reading whole pictures: numbers, "not a digit", and confidences that mean what they say."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

import predict
from benchmarks.reading import scores
from digits import DEFAULT_DETECTOR, DEFAULT_MODEL
from digits.calibration import fit_temperature, softmax, split_head, with_temperature
from digits.images import load_image, normalize_digit
from digits.inference import predict as probabilities_of
from digits.metrics import expected_calibration_error
from digits.reading import Piece, components, open_detector, read, separate
from digits.store import load_model, read_record

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def model():
    return load_model(ROOT / DEFAULT_MODEL)


@pytest.fixture(scope="module")
def detector():
    return open_detector(ROOT / DEFAULT_DETECTOR)


# ------------------------------------------------------------------------ the floors


def test_numbers_non_digits_and_single_digits_are_read_above_the_floors(model, detector):
    """tests/number_images, tests/nondigit_images (python tests/make_reading_images.py) and
    tests/digit_images, read as predict.py reads them (python -m benchmarks.reading prints
    the same figures: 96.0% of the numbers, 94.1% of the non-digits, 0.2% of the digits)."""
    result = scores(model, TESTS, detector=detector)
    assert result["numbers_read_exactly"] >= 0.95, result["wrong_numbers"]
    assert result["nondigits_refused"] >= 0.90, result["accepted_nondigits"]
    assert result["single_digits_refused_or_split"] <= 0.02, result["single_digit_failures"]
    for family, share in result["numbers_by_family"].items():
        assert share >= 0.85, family


# ------------------------------------------------------------------- separating digits


def test_components_are_eight_connected():
    mask = np.zeros((6, 9), dtype=bool)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = True  # a diagonal: one piece
    mask[0:4, 5] = True  # a bar
    mask[5, 8] = True  # a speck on its own
    sizes = sorted(len(rows) for rows, _ in components(mask))
    assert sizes == [1, 3, 4]


def flood_fill_count(mask):
    """The number of 8-connected pieces, counted the slow, obvious way."""
    seen, count = np.zeros_like(mask), 0
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        count, stack = count + 1, [(y, x)]
        seen[y, x] = True
        while stack:
            a, b = stack.pop()
            for yy in range(max(0, a - 1), min(mask.shape[0], a + 2)):
                for xx in range(max(0, b - 1), min(mask.shape[1], b + 2)):
                    if mask[yy, xx] and not seen[yy, xx]:
                        seen[yy, xx] = True
                        stack.append((yy, xx))
    return count


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 25), st.integers(1, 25), st.floats(0.1, 0.7), st.integers(0, 2**31))
def test_components_cover_the_ink_once_and_match_a_flood_fill(height, width, density, seed):
    mask = np.random.default_rng(seed).random((height, width)) < density
    pieces = components(mask)
    cover = np.zeros(mask.shape, dtype=int)
    for rows, cols in pieces:
        cover[rows, cols] += 1
    assert (cover == mask).all()
    assert len(pieces) == flood_fill_count(mask)


def ink_with(*boxes, shape=(60, 200)):
    ink = np.zeros(shape, dtype=np.float32)
    for top, bottom, left, right in boxes:
        ink[top:bottom, left:right] = 1.0
    return ink


def test_digits_apart_are_pieces_left_to_right_and_specks_are_dropped():
    ink = ink_with((10, 50, 120, 130), (10, 50, 20, 40), (30, 31, 80, 81))
    pieces = separate(ink)
    assert [(p.left, p.right) for p in pieces] == [(20, 40), (120, 130)]


def test_strokes_above_one_another_and_flat_strokes_join_their_digit():
    # a 5 written as a body and a flag; a 7's bar drawn apart, lying over its stem
    ink = ink_with((25, 50, 20, 45), (10, 14, 22, 50), (10, 50, 100, 106), (5, 9, 95, 125))
    pieces = separate(ink)
    assert len(pieces) == 2 and pieces[0].left == 20 and pieces[1].right == 125


def test_a_piece_cut_in_two_keeps_each_side():
    piece = Piece(*np.nonzero(ink_with((0, 10, 0, 30))))
    left, right = piece.cut([12])
    assert (left.left, left.right, right.left, right.right) == (0, 12, 12, 30)


# ------------------------------------------------------------------------ reading


def test_one_digit_reads_exactly_as_a_single_digit_always_did(model, mnist):
    for image in mnist["x_test"][:20]:
        grey = image / 255.0
        answer = read(model, grey)
        before = probabilities_of(model, 255 * normalize_digit(grey)[None])[0]
        assert len(answer["digits"]) == 1
        np.testing.assert_array_equal(answer["probabilities"], [float(p) for p in before])
        assert answer["digit"] == int(before.argmax())


def test_three_mnist_digits_side_by_side_read_as_a_number(model, detector, mnist):
    """The issue's example: strips of three MNIST test digits came back as one digit."""
    x, y = mnist["x_test"], mnist["y_test"]
    for start in range(0, 15, 3):
        strip = np.concatenate(list(x[start : start + 3]), axis=1) / 255.0
        answer = read(model, strip, detector=detector)
        assert answer["number"] == "".join(str(d) for d in y[start : start + 3])
        assert [d["box"]["left"] < 28 * (i + 1) for i, d in enumerate(answer["digits"])]


def test_a_blank_page_is_not_a_digit(model):
    answer = read(model, np.ones((100, 100), dtype=np.float32))
    assert answer["number"] is None and answer["digits"] == [] and "no ink" in answer["reason"]


def test_what_the_model_is_unsure_of_is_not_a_digit(model):
    image = load_image(sorted((TESTS / "digit_images").glob("7-strokes-*"))[0])
    sure = read(model, image)
    assert sure["digit"] == 7
    unsure = read(model, image, min_confidence=1.01)
    assert unsure["digit"] is None and unsure["number"] is None
    assert "not a digit" in unsure["reason"] and unsure["digits"][0]["digit"] is None


def test_the_shipped_detector_and_its_threshold(detector):
    record = read_record(ROOT / DEFAULT_DETECTOR)
    assert detector[1] == record["threshold"]
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


NUMBER = sorted((TESTS / "number_images").glob("*-printed-*.png"))[0]
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
    assert "digit" not in number, "the single-digit fields are for one-digit pictures"
    assert letter["number"] is None
    assert any(d["digit"] is None and d["reason"].startswith("not a digit") for d in letter["digits"])


def test_min_confidence_overrides_the_threshold(cli):
    image = str(sorted((TESTS / "digit_images").glob("7-strokes-*"))[0])
    status, out, _ = cli(predict.main, "--json", "--min-confidence", "1", image)
    assert status == 0 and json.loads(out)["digit"] is None
    status, _, err = cli(predict.main, "--min-confidence", "2", image)
    assert status == 2 and "not a probability from 0 to 1" in err


# ------------------------------------------------------------------------ the detector


def test_synthetic_training_pictures_are_model_inputs():
    from digits.detector import synthetic_digits, synthetic_nondigits

    rng = np.random.default_rng(0)
    digits = synthetic_digits(rng, 3)
    others = synthetic_nondigits(rng, 12)  # words and scribbles give several pieces each
    assert digits.shape == (6, 28, 28) and others.shape[1:] == (28, 28) and len(others) >= 12
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
    from digits.detector import choose_threshold

    digits = np.zeros((1000, 28, 28), dtype=np.float32)
    digits[:, 0, 0] = np.linspace(0, 255 * 0.9, 1000)  # a few digits look odd to it
    others = np.full((100, 28, 28), 255 * 0.95, dtype=np.float32)
    chosen = choose_threshold(Scores(), {"digits": digits, "nondigits": others})
    assert chosen["held_out_digits_refused"] <= 0.01
    assert chosen["held_out_nondigits_refused"] == 1.0
    assert 0.5 <= chosen["threshold"] < 0.95
