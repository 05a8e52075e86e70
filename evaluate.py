"""Report a saved model's accuracy on the 10,000 MNIST test images.

    python evaluate.py                            # models/mlp.keras
    python evaluate.py --model models/cnn.keras   # any .keras or .h5 model

Prints test loss and accuracy, precision, recall and F1 for each digit, the confusion
matrix and the batch inference speed, and writes them all to JSON beside the model
(models/<name>.evaluation.json unless --output says otherwise).
"""

from pathlib import Path

from digits.cli import ArgumentParser, positive_int, run


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", default="models/mlp.keras", help="the .keras or .h5 model to evaluate"
    )
    parser.add_argument("--data", default=None, help="MNIST .npz file (default: data/mnist.npz)")
    parser.add_argument(
        "--limit", type=positive_int, help="evaluate on only the first N test images"
    )
    parser.add_argument(
        "--output", help="JSON report path (default: beside the model, <name>.evaluation.json)"
    )
    return parser.parse_args(argv)


def format_report(report):
    """The report as the text evaluate.py prints: headline, per-digit table, confusion matrix."""
    lines = [
        f"test accuracy {100 * report['accuracy']:.2f}%  ({report['errors']} errors in "
        f"{report['images']} images), loss {report['loss']:.4f}",
        f"inference {report['images_per_second']:,.0f} images/s (batch 1000, after warm-up)",
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


def main(argv=None):
    args = parse_args(argv)
    from digits.data import DEFAULT_PATH, load_mnist
    from digits.evaluation import images_per_second, load_model, predict, score
    from digits.files import write_json

    model_path = Path(args.model)
    output = Path(args.output) if args.output else model_path.with_suffix(".evaluation.json")
    model = load_model(model_path)
    arrays = load_mnist(args.data or DEFAULT_PATH)
    x, y = arrays["x_test"][: args.limit], arrays["y_test"][: args.limit]

    report = {"model": str(model_path), **score(predict(model, x), y)}
    report["images_per_second"] = images_per_second(model, x)
    print(format_report(report))
    write_json(output, report)
    print(f"\nwrote {output}")
    return 0


if __name__ == "__main__":
    run(main)
