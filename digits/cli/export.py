"""Export a trained model to run outside this project: ONNX, LiteRT or TensorFlow SavedModel.

    python export.py                                          # models/accurate.keras -> .onnx
    python export.py --model models/cnn.keras --format litert  # -> models/cnn.tflite
    python export.py --format savedmodel                      # -> models/accurate.savedmodel/

Every exported file takes `image`, raw 28x28 images as MNIST holds them (uint8, 0-255, a
batch of any size), and gives `probabilities`, the 10 of each, as the Keras model does; the
ONNX and LiteRT files say so in their metadata, with the labels and the source model's
SHA-256 (digits.make.export). It is checked against the Keras model on the 10,000 test
images (the same digit for every image, every probability within 1e-4) before it is put in
place, and <file>.json beside it records the model it came from, the command, the library
versions and that check.
"""

import sys

from digits import DEFAULT_MODEL
from digits.cli import ArgumentParser, run
from digits.make.export import FORMATS
from digits.make.networks import NETWORKS


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the .keras or .h5 model")
    parser.add_argument("--format", choices=tuple(FORMATS), default="onnx", help="what to write")
    parser.add_argument(
        "--output",
        help="where to write (default: beside the model, models/NAME.onnx, .tflite or "
        ".savedmodel)",
    )
    parser.add_argument("--data", default=None, help="MNIST .npz file (default: data/mnist.npz)")
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    from pathlib import Path

    from digits import DigitsError
    from digits.files import write_json
    from digits.make.data import DEFAULT_PATH, load_mnist
    from digits.make.export import export, export_path
    from digits.provenance import command_line, export_record_path, library_versions, sha256_of
    from digits.read.models import load_model
    from digits.read.shapes import fits

    output = Path(args.output) if args.output else export_path(args.model, args.format)
    if output.suffix != FORMATS[args.format]:
        raise DigitsError(
            f"--output {output}: a {args.format} file's name must end in {FORMATS[args.format]}"
        )
    # the classifiers, the detector and the line reader (load_model checks the file before
    # it imports Keras, so a wrong path is answered at once)
    model = load_model(args.model, classes=None, input_shape=None)
    takes, gives = model.input_shape[1:], model.output_shape[1:]
    network = next(
        (n for n in NETWORKS.values() if fits(takes, gives, n.input_shape, n.output_shape)),
        None,
    )
    if network is None:
        raise DigitsError(
            f"{args.model} takes {takes} and gives {gives}: not a digit model (28x28 in, 10 "
            f"out), the detector (2 out) or the line reader; nothing was exported"
        )
    from digits.make.training import TASKS  # Keras: only once the model is known to be one

    images = TASKS[network.task].test_inputs(load_mnist(args.data or DEFAULT_PATH))
    check = export(model, args.format, output, images, source=args.model)
    write_json(
        export_record_path(output),
        {
            "command": command_line("export.py", argv),
            "format": args.format,
            "source": str(args.model),
            "source_sha256": sha256_of(args.model),
            "versions": library_versions(),
            "parity_on_test_images": check,
        },
    )
    print(
        f"wrote {output}: the same digit as {args.model} for all {check['images']:,} test "
        f"images, probabilities within {check['largest_probability_difference']:.1e}"
    )
    return 0


def console():
    """The command line (python export.py, digits-export): main() with one-line errors."""
    run(main)


if __name__ == "__main__":
    console()
