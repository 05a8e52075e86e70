"""How well whole pictures are read: numbers (with separators, on several lines), non-digits
and single digits, by the shipped reader (digits.read.reading), beside the reader of an
earlier checkout run on the same pictures.

    python -m benchmarks.reading                     # the test split in tests/
    python -m benchmarks.reading --before ../before  # and beside it, the reader of another
                                                     # checkout (git worktree add ../before REV)
    python -m benchmarks.reading --choose DIR        # choose the constants on a development
                                                     # set (tests/make_reading_images.py --dev DIR)

Reads every picture in tests/number_images (numbers read exactly: every digit and separator
right, none missing or extra), tests/nondigit_images (answered "not a digit": no number) and
tests/digit_images (single digits read right), as predict.py does. The test split's
handwriting is MNIST's test set, its typefaces the test split of digits.make.fonts: neither
reached the line reader's training or the choice of a constant.

Beside the figures: how sure the reader says it is of each number (`number_confidence`),
put to use: the share of the numbers it answers when a client keeps only the answers above
a threshold, and how many of those are right.

--choose sweeps the constants over the development set and prints what each does:
digits.read.reading's MIN_CONFIDENCE, SOMETHING_ELSE_LEVEL, SPACE, SPACE_RATIO, SMALL and (with
single digits in DIR/digit_images: tests/make_digit_images.py --dev DIR/digit_images)
NARROW, SURE_ALONE and DETECTOR_CLEAR were chosen there, and STRING_CONFIDENCE_POWER fitted
there. The test images are not looked at.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from digits import DEFAULT_DETECTOR, DEFAULT_MODEL, DEFAULT_READER
from digits.read import reading
from digits.read.images import image_files, load_picture
from digits.read.reading import MIN_CONFIDENCE, SOMETHING_ELSE_LEVEL, open_reader

TESTS = Path(__file__).resolve().parent.parent / "tests"
FOLDERS = ("number_images", "nondigit_images", "digit_images")
# What the reading issue asks of the reader on the test split: each figure at least this,
# "merges" (a number with separators answered with one lost, added or read as a digit) at
# most.
TARGETS = {
    "numbers": 0.95,
    "touching": 0.90,
    "lined or boxed": 0.90,
    "separators": 0.90,
    "merges": 0.01,
    "nondigits": 0.95,
    "single digits": 0.98,
    "printed single digits": 0.98,
    "soft scanned single digits": 0.95,
}
AT_MOST = {"merges"}
COVERAGES = (1.0, 0.95, 0.9, 0.8, 0.5)

# How test pictures' names write what is not a digit (tests/make_reading_images.py)
LABEL_CODES = {".": "p", ",": "c", "-": "m", "/": "s", ":": "k", " ": "_", "\n": "n"}


def label_name(text):
    """A number as written -> the first part of its test picture's name."""
    return "".join(LABEL_CODES.get(ch, ch) for ch in text)


def expected_number(path):
    decode = {code: ch for ch, code in LABEL_CODES.items()}
    return "".join(decode.get(ch, ch) for ch in path.name.split("-")[0])


def kind_of(path, numbers):
    """numbers: <number>-<family>-<n>.<format>; non-digits and digits: <kind>-<n>, <label>-<family>-<n>."""
    parts = path.name.split("-")
    return parts[1] if numbers or len(parts) > 2 else parts[0]


def separators_of(text):
    return [ch for ch in text or "" if not ch.isdigit() and ch not in " \n"]


def answers(read, base=TESTS, folders=FOLDERS):
    """{folder: {picture's name: (number, number_confidence)}} as `read` (grey, name ->
    answer dict, as to_json gives) answers them."""
    out = {}
    for folder in folders:
        out[folder] = {}
        for path in image_files([Path(base) / folder]):
            answer = read(load_picture(path)[0], str(path))
            out[folder][path.name] = (answer["number"], answer.get("number_confidence"))
    return out


def scores(answered):
    """The figures for one reader's answers (answers())."""
    numbers = {Path(p): a for p, a in answered["number_images"].items()}
    nondigits = {Path(p): a for p, a in answered["nondigit_images"].items()}
    exact = {p: a[0] == expected_number(p) for p, a in numbers.items()}
    refused = {p: a[0] is None for p, a in nondigits.items()}
    by_family = _by_kind(exact, True)
    separated = [p for p in numbers if kind_of(p, True) == "separators"]
    result = {
        "numbers": float(np.mean(list(exact.values()))),
        "nondigits": float(np.mean(list(refused.values()))),
        "numbers_by_family": by_family,
        "nondigits_by_kind": _by_kind(refused, False),
        "touching": by_family.get("touching", float("nan")),
        "separators": by_family.get("separators", float("nan")),
        "merges": float(np.mean([
            numbers[p][0] is not None and separators_of(numbers[p][0]) != separators_of(expected_number(p))
            for p in separated
        ])) if separated else float("nan"),
        "lined or boxed": float(np.mean([ok for p, ok in exact.items() if kind_of(p, True) in ("lined", "boxed")])),
        "coverage": coverage([(numbers[p][1], exact[p]) for p in numbers if numbers[p][0] is not None], len(numbers)),
        "wrong_numbers": [(p.name, a[0]) for p, a in numbers.items() if not exact[p]],
        "accepted_nondigits": [(p.name, a[0]) for p, a in nondigits.items() if not refused[p]],
    }
    if "digit_images" in answered:
        digits = {Path(p): a for p, a in answered["digit_images"].items()}
        right = {p: a[0] == p.name.split("-")[0] for p, a in digits.items()}
        by_family = _by_kind(right, True)
        result["single digits"] = float(np.mean(list(right.values())))
        result["printed single digits"] = by_family["printed"]
        result["soft scanned single digits"] = by_family.get("softscan", float("nan"))
        result["single_digits_by_family"] = by_family
        result["single_digit_failures"] = [(p.name, a[0]) for p, a in digits.items() if not right[p]]
    return result


def coverage(answered, total):
    """{share of all numbers answered: share of those right} when only the surest answers
    are kept, for each of COVERAGES (of the numbers answered at all)."""
    if not answered or answered[0][0] is None:
        return {}
    ranked = sorted(answered, key=lambda a: -a[0])
    out = {}
    for share in COVERAGES:
        kept = ranked[: max(1, round(share * len(ranked)))]
        threshold = kept[-1][0]
        out[len(kept) / total] = (float(np.mean([ok for _, ok in kept])), threshold)
    return out


def _by_kind(outcomes, numbers):
    kinds = {}
    for path, ok in outcomes.items():
        kinds.setdefault(kind_of(path, numbers), []).append(ok)
    return {k: float(np.mean(v)) for k, v in sorted(kinds.items())}


CONSTANTS = {
    name: getattr(reading, name)
    for name in ("SPACE", "SPACE_RATIO", "STRING_CONFIDENCE_POWER", "NARROW", "SMALL", "SURE_ALONE", "DETECTOR_CLEAR")
}


def reader_of(model, lines, detector, **constants):
    """The shipped reader (onnxruntime where the exports are up to date, as predict.py) as a
    function grey, name -> answer dict, with digits.read.reading's constants replaced by
    `constants` (lower-case names)."""
    reader = open_reader(model, lines, detector, "auto", constants.pop("min_confidence", MIN_CONFIDENCE))
    reader.something_else_level = constants.pop("something_else_level", SOMETHING_ELSE_LEVEL)
    for name, value in {**CONSTANTS, **{k.upper(): v for k, v in constants.items()}}.items():
        setattr(reading, name, value)
    return lambda grey, name: reader.read(grey, name).to_json(inputs=False)


# Run in another checkout: its reader's answers on this checkout's test pictures, as JSON.
BEFORE = """
import json, sys
from pathlib import Path
from digits.read.images import image_files, load_picture
from benchmarks.reading import readers
read = readers(*sys.argv[2:5])["line reader"]
out = {}
for folder in ("number_images", "nondigit_images", "digit_images"):
    out[folder] = {p.name: [read(load_picture(p)[0], str(p))["number"], None]
                   for p in image_files([Path(sys.argv[1]) / folder])}
print(json.dumps(out))
"""


def answers_before(tree, base=TESTS):
    """The answers of the reader in another checkout (`tree`), with its own shipped models,
    run there in a fresh process on this checkout's test pictures."""
    tree = Path(tree)
    models = [str(tree / "models" / f) for f in ("accurate.keras", "reader.keras", "detector.keras")]
    done = subprocess.run([sys.executable, "-c", BEFORE, str(base), *models], cwd=tree,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the reader in {tree} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def choose(model, lines, detector, dev):
    """Sweeps of the constants on the development set, each around the others' values."""
    folders = ("number_images", "nondigit_images")
    print("min_confidence  something_else_level  dev numbers exact  dev non-digits refused")
    for level in (0.5, 0.7, 0.9):
        for threshold in (0.3,):
            result = scores(answers(reader_of(model, lines, detector, min_confidence=threshold,
                                              something_else_level=level), dev, folders))
            print(f"{threshold:14.2f}  {level:20.2f}  {100 * result['numbers']:16.1f}%  "
                  f"{100 * result['nondigits']:21.1f}%")
    print("space  space_ratio  dev numbers exact  dev separators exact")
    for space, ratio in ((0.9, 2.5), (1.2, 2.5), (1.5, 2.5), (1.2, 2.0), (1.2, 3.0)):
        result = scores(answers(reader_of(model, lines, detector, space=space, space_ratio=ratio), dev, folders))
        print(f"{space:5.2f}  {ratio:11.2f}  {100 * result['numbers']:16.1f}%  {100 * result['separators']:19.1f}%")
    print("small  dev numbers exact  dev separators exact")
    for small in (0.0, 0.45, 0.55):
        result = scores(answers(reader_of(model, lines, detector, small=small), dev, folders))
        print(f"{small:5.2f}  {100 * result['numbers']:17.1f}%  {100 * result['separators']:19.1f}%")
    if (Path(dev) / "digit_images").is_dir():  # tests/make_digit_images.py --dev DIR/digit_images
        print("narrow  dev single digits read right  soft scanned")
        for narrow in (0.4, 0.6, 100.0):
            read = answers(reader_of(model, lines, detector, narrow=narrow), dev, ("digit_images",))["digit_images"]
            right = {name: a[0] == name.split("-")[0] for name, a in read.items()}
            soft = [ok for name, ok in right.items() if kind_of(Path(name), True) == "softscan"]
            print(f"{narrow:6.1f}  {100 * np.mean(list(right.values())):28.1f}%  {100 * np.mean(soft):11.1f}%")
        print("sure_alone  detector_clear  dev single digits read right  printed  dev non-digits refused")
        for sure, clear in ((1.0, 0.2), (0.8, 0.2), (0.85, 0.2), (0.9, 0.2), (0.95, 0.2), (0.9, 0.1), (0.9, 0.4)):
            result = scores(answers(reader_of(model, lines, detector, sure_alone=sure, detector_clear=clear), dev))
            print(f"{sure:10.2f}  {clear:14.2f}  {100 * result['single digits']:28.1f}%  "
                  f"{100 * result['printed single digits']:6.1f}%  {100 * result['nondigits']:21.1f}%")
    answered = answers(reader_of(model, lines, detector, string_confidence_power=1.0), dev, folders)
    numbers = [(a[1], a[0] == expected_number(Path(p))) for p, a in answered["number_images"].items() if a[0]]
    print(f"string_confidence_power (fitted on {len(numbers)} answered dev numbers): {fit_power(numbers):.3f}")


def fit_power(answered):
    """The power that makes (product of symbol confidences) ** power the likelihood of an
    answer being right: the least log loss, by a grid search."""
    sure = np.clip(np.array([a[0] for a in answered]), 1e-9, 1.0)
    right = np.array([a[1] for a in answered], dtype=np.float64)

    def loss(power):
        p = np.clip(sure ** power, 1e-9, 1 - 1e-9)
        return -np.mean(right * np.log(p) + (1 - right) * np.log(1 - p))

    return float(min(np.linspace(0.05, 3.0, 60), key=loss))


def report(results):
    """The figures, one column per reader, as a Markdown table."""
    names = list(results)
    rows = ["| | " + " | ".join(names) + " | target |", "| --- |" + " ---: |" * (len(names) + 1)]

    def row(label, key, sub=None, target=None):
        values = [r.get(key, float("nan")) if sub is None else r[key].get(sub, float("nan")) for r in results.values()]
        cells = " | ".join(f"{100 * v:.1f}%" for v in values)
        bound = "" if target is None else f"{'<=' if key in AT_MOST else '>='} {100 * target:.1f}%"
        rows.append(f"| {label} | {cells} | {bound} |")

    first = results[names[0]]
    row("**numbers read exactly**", "numbers", target=TARGETS["numbers"])
    for family in first["numbers_by_family"]:
        row(f"&nbsp; {family}", "numbers_by_family", family, TARGETS.get(family))
    row("&nbsp; lined or boxed", "lined or boxed", target=TARGETS["lined or boxed"])
    row("&nbsp; separators lost, added or read as a digit", "merges", target=TARGETS["merges"])
    row("**non-digits answered 'not a digit'**", "nondigits", target=TARGETS["nondigits"])
    for kind in first["nondigits_by_kind"]:
        row(f"&nbsp; {kind}", "nondigits_by_kind", kind)
    if "single digits" in first:
        row("**single digits read right** (tests/digit_images)", "single digits", target=TARGETS["single digits"])
        for family in first["single_digits_by_family"]:
            target = {"printed": "printed single digits", "softscan": "soft scanned single digits"}.get(family)
            row(f"&nbsp; {family}", "single_digits_by_family", family, TARGETS.get(target))
    rows.append("")
    rows.append(f"Numbers answered, kept by number_confidence ({names[0]}):")
    rows.append("| kept (of all numbers) | right | number_confidence at least |")
    rows.append("| ---: | ---: | ---: |")
    for kept, (right, threshold) in first["coverage"].items():
        rows.append(f"| {100 * kept:.1f}% | {100 * right:.1f}% | {threshold:.3f} |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--reader", default=DEFAULT_READER)
    parser.add_argument("--detector", default=DEFAULT_DETECTOR, help="or 'none'")
    parser.add_argument("--before", metavar="CHECKOUT", help="also read with the reader of this checkout")
    parser.add_argument("--choose", metavar="DEV_DIR", help="sweep the constants on a development set")
    parser.add_argument("--verbose", action="store_true", help="list every failure")
    args = parser.parse_args(argv)
    if args.choose:
        return choose(args.model, args.reader, args.detector, args.choose)
    results = {"reader": scores(answers(reader_of(args.model, args.reader, args.detector)))}
    if args.before:
        results[f"before ({args.before})"] = scores(answers_before(args.before))
    print(report(results))
    if args.verbose:
        for name, result in results.items():
            for key in ("wrong_numbers", "accepted_nondigits", "single_digit_failures"):
                print(name, key, result[key])
    return results


if __name__ == "__main__":
    main()
