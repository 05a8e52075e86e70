"""Read your own pictures of digits and numbers with a trained model.

    python predict.py my-digit.jpg scans/          # files and folders of images
    python predict.py --json photo.png             # one JSON object per line
    python predict.py --show-input seen.png a.png  # also save what the model saw

Each image (PNG, JPEG, BMP, GIF or WebP; any size; grey, colour or transparent) is read
by digits.reading: its ink is read as a line by the line reader, digits left to right;
a single digit is prepared the way MNIST's digits were (digits.images: ink made white on
black, cropped, its longest side scaled to 20 pixels, centred by its centre of mass in a
28x28 frame) and classified. --json boxes are in the picture's own pixels.
Prints the digit, the model's confidence and its top three guesses; for several digits,
the number and the lowest digit confidence. Ink that is not a digit (or a digit the
model is unsure of) is answered "not a digit", with the reason, and the exit status stays 0.
A file that cannot be read gets one line on stderr and the others go on; the exit status
is then 2.
"""

import json
import sys

import numpy as np

from digits import DigitsError
from digits.cli import ArgumentParser, percent, run
from digits.images import image_files, load_picture
from digits.reading import add_reader_arguments, open_reader

SHOWN = 30  # the most pictures --show-input draws (the first ones)


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of them")
    add_reader_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object per image")
    parser.add_argument(
        "--show-input",
        metavar="OUT.png",
        help="save each picture beside the 28x28 digits the model saw in it",
    )
    return parser.parse_args(argv)


def describe(path, answer):
    """One line of text for a read picture."""
    digits = answer["digits"]
    if answer["number"] is None:
        if not digits:
            return f"{path}: not a digit ({answer['reason']})"
        if len(digits) == 1:
            return f"{path}: {digits[0]['reason']}"
        which = next(i for i, d in enumerate(digits) if d["digit"] is None)
        return f"{path}: not a number: piece {which + 1} of {len(digits)} is {digits[which]['reason']}"
    if len(digits) == 1:
        p = np.array(answer["probabilities"])
        top = np.argsort(-p)[:3]
        guesses = ", ".join(f"{d} {percent(p[d])}" for d in top)
        return f"{path}: {answer['digit']} ({percent(answer['confidence'])})   top 3: {guesses}"
    lowest = min(d["confidence"] for d in digits)
    return f"{path}: {answer['number']} (lowest digit confidence {percent(lowest)})"


def as_json(path, answer):
    """The answer as one JSON object: numbers rounded, the 28x28 inputs left out."""
    out = {"path": str(path), "number": answer["number"]}
    if "reason" in answer:
        out["reason"] = answer["reason"]
    out["digits"] = [
        {k: v for k, v in d.items() if k != "input"}
        | {"probabilities": [round(p, 6) for p in d["probabilities"]]}
        for d in answer["digits"]
    ]
    if len(answer["digits"]) == 1:
        out["digit"] = answer["digit"]
        out["confidence"] = answer["confidence"]
        out["probabilities"] = [round(p, 6) for p in answer["probabilities"]]
    return json.dumps(out)


def main(argv=None):
    args = parse_args(argv)
    if args.show_input:
        try:
            from digits.plots import model_inputs
        except ImportError:  # a light install (requirements-infer.txt) draws no pictures
            raise DigitsError("--show-input needs matplotlib: pip install -r requirements.txt") from None
    files = image_files(args.images)
    if not files:
        raise DigitsError(f"no image files in {', '.join(args.images)}")
    reader = open_reader(args.model, args.reader, args.detector, args.backend, args.min_confidence)

    failures, shown = 0, []
    for path in files:
        try:
            if not path.is_file():
                raise DigitsError(f"{path}: no such file")
            original, scale = load_picture(path)
            answer = reader.read(original, str(path), scale).to_json()
        except DigitsError as err:
            print(f"error: {err}", file=sys.stderr)
            failures += 1
            continue
        print(as_json(path, answer) if args.json else describe(path, answer))
        if args.show_input and len(shown) < SHOWN:  # held only for the picture, and few
            shown.append((path, original, answer))

    if args.show_input and shown:
        model_inputs(shown, args.show_input)
        print(f"wrote {args.show_input}", file=sys.stderr if args.json else sys.stdout)
    return 2 if failures else 0


def console():
    """The command line (python predict.py, digits-predict): main() with one-line errors."""
    run(main)


if __name__ == "__main__":
    console()
