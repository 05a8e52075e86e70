"""How well whole pictures are read: numbers, non-digits, and the single digits.

    python -m benchmarks.reading                 # the test sets in tests/, default model
    python -m benchmarks.reading --choose DIR    # choose min_confidence on a development
                                                 # set (tests/make_reading_images.py --dev DIR)

Reads every picture in tests/number_images (numbers read exactly: every digit right, none
missing or extra), tests/nondigit_images (answered "not a digit": no number) and
tests/digit_images (single digits wrongly refused, or read as several), through
digits.reading.read, as predict.py does.

--choose sweeps the confidence threshold over MNIST's validation hold-out (5,000 training
images never trained on; a threshold may refuse at most 1% of them) and the development
set's non-digits, and prints what each threshold refuses: digits.reading.MIN_CONFIDENCE
is the highest threshold within that 1%. The test images are not looked at.
"""

import argparse
from pathlib import Path

import numpy as np

from digits import DEFAULT_DETECTOR, DEFAULT_MODEL
from digits.images import image_files, load_image
from digits.reading import MIN_CONFIDENCE, read

TESTS = Path(__file__).resolve().parent.parent / "tests"


def read_all(model, folder, min_confidence, detector):
    return {
        path: read(model, load_image(path), str(path), min_confidence, detector)
        for path in image_files([folder])
    }


def scores(model, base, min_confidence=MIN_CONFIDENCE, singles=True, detector=None):
    numbers = read_all(model, Path(base) / "number_images", min_confidence, detector)
    exact = [answer["number"] == path.name.split("-")[0] for path, answer in numbers.items()]
    families = {}
    for (path, answer), ok in zip(numbers.items(), exact):
        families.setdefault(path.name.split("-")[1], []).append(ok)
    nondigits = read_all(model, Path(base) / "nondigit_images", min_confidence, detector)
    refused = [answer["number"] is None for answer in nondigits.values()]
    kinds = {}
    for (path, answer), ok in zip(nondigits.items(), refused):
        kinds.setdefault(path.name.split("-")[0], []).append(ok)
    result = {
        "numbers_read_exactly": float(np.mean(exact)),
        "numbers_by_family": {k: float(np.mean(v)) for k, v in families.items()},
        "nondigits_refused": float(np.mean(refused)),
        "nondigits_by_kind": {k: float(np.mean(v)) for k, v in kinds.items()},
        "wrong_numbers": [
            (path.name, answer["number"]) for (path, answer), ok in zip(numbers.items(), exact) if not ok
        ],
        "accepted_nondigits": [
            (path.name, answer["number"]) for (path, answer), ok in zip(nondigits.items(), refused) if not ok
        ],
    }
    if singles:
        digits = read_all(model, TESTS / "digit_images", min_confidence, detector)
        wrong = [(p.name, a["number"]) for p, a in digits.items() if a["number"] is None or len(a["number"]) != 1]
        result["single_digits_refused_or_split"] = len(wrong) / len(digits)
        result["single_digit_failures"] = wrong
    return result


def choose(model, dev, detector):
    """Threshold sweep: MNIST validation digits refused, development non-digits refused."""
    from digits.data import load_mnist, split_validation
    from digits.inference import predict

    arrays = load_mnist()
    _, (x_val, y_val) = split_validation(arrays["x_train"], arrays["y_train"])
    confidence = predict(model, x_val).max(axis=1)
    print("threshold  validation digits refused  dev non-digits refused  dev numbers exact")
    for threshold in (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        result = scores(model, dev, threshold, singles=False, detector=detector)
        print(
            f"{threshold:9.2f}  {100 * np.mean(confidence < threshold):24.2f}%  "
            f"{100 * result['nondigits_refused']:21.1f}%  {100 * result['numbers_read_exactly']:16.1f}%"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--detector", default=DEFAULT_DETECTOR, help="or 'none'")
    parser.add_argument("--choose", metavar="DEV_DIR", help="sweep thresholds on a development set")
    parser.add_argument("--verbose", action="store_true", help="list every failure")
    args = parser.parse_args(argv)
    from digits.reading import open_detector
    from digits.store import open_model

    model = open_model(args.model)
    detector = None if args.detector == "none" else open_detector(args.detector)
    if args.choose:
        return choose(model, args.choose, detector)
    result = scores(model, TESTS, detector=detector)
    print(f"numbers read exactly: {100 * result['numbers_read_exactly']:.1f}%  " + ", ".join(
        f"{k} {100 * v:.0f}%" for k, v in result["numbers_by_family"].items()))
    print(f"non-digits answered 'not a digit': {100 * result['nondigits_refused']:.1f}%  " + ", ".join(
        f"{k} {100 * v:.0f}%" for k, v in result["nondigits_by_kind"].items()))
    print(f"single digits (tests/digit_images) refused or split: {100 * result['single_digits_refused_or_split']:.1f}%")
    if args.verbose:
        for key in ("wrong_numbers", "accepted_nondigits", "single_digit_failures"):
            print(key, result[key])
    return result


if __name__ == "__main__":
    main()
