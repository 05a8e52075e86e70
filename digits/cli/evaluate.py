"""Report a saved model's accuracy on the 10,000 MNIST test images.

    python evaluate.py                            # models/accurate.keras, the most accurate
    python evaluate.py --model models/cnn.keras   # any .keras or .h5 model
    python evaluate.py --model a.keras b.keras    # an ensemble: probabilities averaged

Prints test loss and accuracy, the expected calibration error (with and without the
model's temperature), precision, recall and F1 for each digit, the confusion matrix and
the batch inference speed, and writes them all to JSON beside the model
(models/<name>.evaluation.json unless --output says otherwise), with the SHA-256 of the
weights it scored: digits.report calls it stale once the model beside it is another.
"""

import os
from pathlib import Path

from digits import DEFAULT_MODEL
from digits.cli import ArgumentParser, positive_int, run

BATCH_SIZE = 1000  # images per batch when the inference speed is measured


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        nargs="+",
        default=[DEFAULT_MODEL],
        metavar="PATH",
        help="the .keras or .h5 model to evaluate; several are evaluated as one ensemble "
        "that averages their probabilities",
    )
    parser.add_argument("--data", default=None, help="MNIST .npz file (default: data/mnist.npz)")
    parser.add_argument(
        "--limit", type=positive_int, help="evaluate on only the first N test images"
    )
    parser.add_argument(
        "--output",
        help="JSON report path (default: beside the model, <name>.evaluation.json; "
        "for an ensemble, ensemble.evaluation.json beside the first model)",
    )
    return parser.parse_args(argv)


def format_report(report):
    """The report as the text evaluate.py prints: headline, per-digit table, confusion matrix."""
    lines = [
        f"test accuracy {100 * report['accuracy']:.2f}%  ({report['errors']} errors in "
        f"{report['images']} images), loss {report['loss']:.4f}",
        f"inference {report['images_per_second']:,.0f} images/s (batch {report['batch_size']}, "
        f"after warm-up)",
        f"expected calibration error {100 * report['expected_calibration_error']:.2f}% "
        f"({100 * report['expected_calibration_error_without_temperature']:.2f}% without "
        f"temperature scaling; temperature "
        f"{', '.join(f'{t:.3f}' for t in report['temperatures'])})",
        "",
        "digit  precision  recall     F1  support",
    ]
    for digit, m in report["per_digit"].items():
        lines.append(
            f"{digit:>5}  {100 * m['precision']:8.2f}%  {100 * m['recall']:5.2f}%  "
            f"{100 * m['f1']:5.2f}%  {m['support']:7d}"
        )
    lines += ["", "confusion matrix (rows: true digit, columns: predicted)"]
    lines.append("     " + "".join(f"{d:>6}" for d in range(10)))
    for digit, row in enumerate(report["confusion_matrix"]):
        lines.append(f"{digit:>5}" + "".join(f"{n:>6}" for n in row))
    return "\n".join(lines)


def beside(path, report):
    """`path` relative to the folder of the report about it."""
    return os.path.relpath(Path(path).resolve(), Path(report).resolve().parent)


def main(argv=None):
    args = parse_args(argv)
    from digits.make.data import DEFAULT_PATH, load_mnist
    from digits.make.calibration import split_head, with_temperature
    from digits.files import write_json
    from digits.read.inference import ensemble_probabilities, images_per_second
    from digits.metrics import expected_calibration_error, score
    from digits.provenance import weights_sha256
    from digits.read.models import load_model

    paths = [Path(p) for p in args.model]
    if args.output:
        output = Path(args.output)
    elif len(paths) == 1:
        output = paths[0].with_suffix(".evaluation.json")
    else:
        output = paths[0].with_name("ensemble.evaluation.json")
    models = [load_model(p) for p in paths]
    arrays = load_mnist(args.data or DEFAULT_PATH)
    x, y = arrays["x_test"][: args.limit], arrays["y_test"][: args.limit]

    probabilities = ensemble_probabilities(models, x)
    one = len(paths) == 1
    report = {
        # the model files as seen from this report's folder: their names, when beside it
        "model": beside(paths[0], output) if one else [beside(p, output) for p in paths],
        # what was scored, so that a report about other weights is known to be stale
        "weights_sha256": weights_sha256(models[0]) if one else [weights_sha256(m) for m in models],
    }
    report.update(score(probabilities, y))
    # the same models without their temperature: what calibration changed
    temperatures = [split_head(m)[1] for m in models]
    plain = ensemble_probabilities([with_temperature(m, 1.0) for m in models], x)
    report["temperatures"] = temperatures
    report["expected_calibration_error_without_temperature"] = expected_calibration_error(plain, y)
    report["batch_size"] = min(BATCH_SIZE, len(x))
    report["images_per_second"] = 1 / sum(
        1 / images_per_second(m, x, report["batch_size"]) for m in models
    )
    print(format_report(report))
    write_json(output, report)
    print(f"\nwrote {output}")
    return 0


def console():
    """The command line (python evaluate.py, digits-evaluate): main() with one-line errors."""
    run(main)


if __name__ == "__main__":
    console()
