"""Read your own pictures of digits and numbers with a trained model.

    python predict.py my-digit.jpg scans/          # files and folders of images
    python predict.py --json photo.png             # one JSON object per line
    python predict.py --show-input seen.png a.png  # also save what the model saw

Each image (PNG, JPEG, BMP, GIF or WebP; any size; grey, colour or transparent) is read
by digits.read.reading: its ink is read as a line by the line reader, digits left to right;
a single digit is prepared the way MNIST's digits were (digits.read.images: ink made white on
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

from digits import DEFAULT_DETECTOR, DEFAULT_MODEL, DEFAULT_READER, DigitsError
from digits.cli import ArgumentParser, percent, probability, run
from digits.read.images import image_files, load_picture
from digits.read.models import BACKENDS
from digits.read.reading import MIN_CONFIDENCE, open_reader

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


def describe(path, reading):
    """One line of text for a Reading."""
    digits = reading.digits
    if reading.number is None:
        if not digits:
            return f"{path}: not a digit ({reading.reason})"
        if reading.lines:
            return f"{path}: not a number: {reading.reason}"
        if len(digits) == 1:
            return f"{path}: {digits[0].reason}"
        which = next(i for i, d in enumerate(digits) if d.digit is None)
        return f"{path}: not a number: piece {which + 1} of {len(digits)} is {digits[which].reason}"
    if (alone := reading.alone) is not None:
        p = np.asarray(alone.probabilities, dtype=np.float64)
        top = np.argsort(-p)[:3]
        guesses = ", ".join(f"{d} {percent(p[d])}" for d in top)
        return f"{path}: {alone.digit} ({percent(alone.confidence)})   top 3: {guesses}"
    lowest = min(d.confidence for d in digits)
    lines = f"   ({len(reading.lines)} lines)" if reading.lines else ""
    return (f"{path}: {reading.number.replace(chr(10), ' | ')} (lowest digit confidence {percent(lowest)}, "
            f"the whole number {percent(reading.confidence)}){lines}")


def as_json(path, reading):
    """The Reading as one JSON object, its path first, the 28x28 inputs left out."""
    return json.dumps({"path": str(path), **reading.to_json(inputs=False)})


def add_reader_arguments(parser):
    """The flags of the scripts that read people's pictures (predict.py, serve.py): which
    model, what runs it, and how "not a digit" is decided."""
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="the .keras, .h5 or exported .onnx model to use"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="what runs the models: onnx (onnxruntime and the exported .onnx files, no "
        "TensorFlow: fast to start), keras, or auto: onnx when a model's .onnx file is there "
        "and up to date, else keras",
    )
    parser.add_argument(
        "--reader",
        default=DEFAULT_READER,
        help="the line reader that reads numbers and refuses letters (python train.py --model reader)",
    )
    parser.add_argument(
        "--detector",
        default=DEFAULT_DETECTOR,
        help="the not-a-digit detector (python train.py --model detector); 'none' to do without",
    )
    parser.add_argument(
        "--min-confidence",
        type=probability,
        default=MIN_CONFIDENCE,
        help="a digit the model is less sure of is answered 'not a digit' (chosen on the "
        "validation hold-out and generated non-digits: python -m benchmarks.reading --choose)",
    )


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
            reading = reader.read(original, str(path), scale)
        except DigitsError as err:
            print(f"error: {err}", file=sys.stderr)
            failures += 1
            continue
        print(as_json(path, reading) if args.json else describe(path, reading))
        if args.show_input and len(shown) < SHOWN:  # held only for the picture, and few
            shown.append((path, original, reading))

    if args.show_input and shown:
        model_inputs(shown, args.show_input)
        print(f"wrote {args.show_input}", file=sys.stderr if args.json else sys.stdout)
    return 2 if failures else 0


def console():
    """The command line (python predict.py, digits-predict): main() with one-line errors."""
    run(main)


if __name__ == "__main__":
    console()
