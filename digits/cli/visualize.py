"""Draw a saved model's results on the MNIST test images as PNG files.

    python visualize.py                            # models/accurate.keras -> figures/accurate-*.png
    python visualize.py --model models/cnn.keras   # -> figures/cnn-*.png

Writes four pictures into figures/ (or --output-dir), named after the model file:
  <name>-correct.png        a grid of correctly classified test digits
  <name>-misclassified.png  the model's most confident mistakes
  <name>-confusion.png      the confusion matrix as a heat map
  <name>-history.png        loss and accuracy per epoch, from the model's JSON record
Each tile is titled with the true label, the prediction and the model's confidence.
"""

from pathlib import Path

import numpy as np

from digits import DEFAULT_MODEL
from digits.cli import ArgumentParser, positive_int, run


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the .keras or .h5 model to draw")
    parser.add_argument("--data", default=None, help="MNIST .npz file (default: data/mnist.npz)")
    parser.add_argument("--output-dir", default="figures", help="folder for the PNG files")
    parser.add_argument("--count", type=positive_int, default=40, help="digits per grid")
    parser.add_argument("--limit", type=positive_int, help="use only the first N test images")
    return parser.parse_args(argv)


def pick_examples(y_true, y_pred, confidence, count, seed=0):
    """Indices for the two grids: a random sample of the correct predictions, and the
    mistakes ordered from most to least confident (the most telling ones first)."""
    right = np.flatnonzero(y_true == y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    sample = np.sort(
        np.random.default_rng(seed).choice(right, min(count, len(right)), replace=False)
    )
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    return sample, worst


def main(argv=None):
    args = parse_args(argv)
    from digits import plots
    from digits.make.data import DEFAULT_PATH, load_mnist
    from digits.read.inference import predict
    from digits.metrics import confusion_matrix
    from digits.provenance import read_record, record_path
    from digits.read.models import load_model

    model_path = Path(args.model)
    model = load_model(model_path)
    arrays = load_mnist(args.data or DEFAULT_PATH)
    x, y = arrays["x_test"][: args.limit], arrays["y_test"][: args.limit]
    probabilities = predict(model, x)
    y_pred, confidence = probabilities.argmax(axis=1), probabilities.max(axis=1)
    right, wrong = pick_examples(y, y_pred, confidence, args.count)

    out = Path(args.output_dir)
    name = model_path.stem
    accuracy = 100 * np.mean(y_pred == y)
    written = [
        out / f"{name}-correct.png",
        out / f"{name}-misclassified.png",
        out / f"{name}-confusion.png",
    ]
    plots.digit_grid(
        x[right],
        y[right],
        y_pred[right],
        confidence[right],
        written[0],
        f"{name}: correctly classified test digits ({len(right)} of {np.sum(y_pred == y)} shown)",
    )
    plots.digit_grid(
        x[wrong],
        y[wrong],
        y_pred[wrong],
        confidence[wrong],
        written[1],
        f"{name}: most confident mistakes ({len(wrong)} of {np.sum(y_pred != y)} shown)",
    )
    plots.confusion_heatmap(
        confusion_matrix(y, y_pred),
        written[2],
        f"{name}: confusion matrix, {len(y)} test images, {accuracy:.2f}% correct",
    )

    history = (read_record(model_path) or {}).get("history")
    if isinstance(history, dict) and history.get("loss"):
        written.append(out / f"{name}-history.png")
        plots.training_curves(history, written[3], f"{name}: training history")
    else:
        print(
            f"no readable training record at {record_path(model_path)}; skipped the training curves"
        )
    for path in written:
        print(f"wrote {path}")
    return 0


def console():
    """The command line (python visualize.py, digits-visualize): main() with one-line errors."""
    run(main)


if __name__ == "__main__":
    console()
