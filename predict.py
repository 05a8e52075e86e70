"""Classify your own pictures of digits with a trained model.

    python predict.py my-digit.jpg scans/          # files and folders of images
    python predict.py --json photo.png             # one JSON object per line
    python predict.py --show-input seen.png a.png  # also save what the model saw

Each image (PNG, JPEG, BMP, GIF or WebP; any size; grey, colour or transparent) is
prepared the way MNIST's digits were (digits.images.normalize_digit): ink made white on
black, cropped, its longest side scaled to 20 pixels, centred by its centre of mass in a
28x28 frame. Prints the digit, the model's confidence and its top three guesses.
A file that cannot be classified gets one line on stderr and the others go on; the exit
status is then 2.
"""

import json
import sys

import numpy as np

from digits import DEFAULT_MODEL
from digits.cli import ArgumentParser, run
from digits.store import BACKENDS


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of them")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="the .keras, .h5 or exported .onnx model to use"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="what runs the model: onnx (onnxruntime and the model's exported .onnx file, "
        "no TensorFlow: fast to start), keras, or auto: onnx when the model's .onnx file is "
        "there and up to date, else keras",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per image")
    parser.add_argument(
        "--show-input",
        metavar="OUT.png",
        help="save each original beside the 28x28 image the model saw",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from digits import DigitsError
    from digits.images import image_files, load_image
    from digits.inference import answer
    from digits.store import open_model

    if args.show_input:
        try:
            from digits.plots import model_inputs
        except ImportError:  # a light install (requirements-infer.txt) draws no pictures
            raise DigitsError("--show-input needs matplotlib: pip install -r requirements.txt") from None
    files = image_files(args.images)
    if not files:
        raise DigitsError(f"no image files in {', '.join(args.images)}")
    model = open_model(args.model, args.backend)

    failures, shown = 0, []
    for path in files:
        try:
            if not path.is_file():
                raise DigitsError(f"{path}: no such file")
            original = load_image(path)
            result = answer(model, original, name=str(path))
        except DigitsError as err:
            print(f"error: {err}", file=sys.stderr)
            failures += 1
            continue
        if args.json:
            print(
                json.dumps(
                    {
                        "path": str(path),
                        "digit": result["digit"],
                        "confidence": result["confidence"],
                        "probabilities": [round(p, 6) for p in result["probabilities"]],
                    }
                )
            )
        else:
            top = np.argsort(-np.array(result["probabilities"]))[:3]
            guesses = ", ".join(f"{d} {100 * result['probabilities'][d]:.1f}%" for d in top)
            print(f"{path}: {result['digit']} ({100 * result['confidence']:.1f}%)   top 3: {guesses}")
        shown.append((path, original, result["input"], result["digit"], result["confidence"]))

    if args.show_input and shown:
        model_inputs(shown, args.show_input)
        print(f"wrote {args.show_input}", file=sys.stderr if args.json else sys.stdout)
    return 2 if failures else 0


if __name__ == "__main__":
    run(main)
