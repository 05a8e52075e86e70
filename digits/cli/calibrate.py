"""Calibrate saved models in place: fit each one's temperature on the validation hold-out.

    python -m digits.cli.calibrate models/cnn.keras [...]     # digits-calibrate when installed

See digits/calibration.py for what temperature scaling is. Keras is imported only once
the flags are read, so --help and the light install's one-line error come at once.
"""

from digits.cli import ArgumentParser, run
from digits.data import DEFAULT_PATH


def main(argv=None):
    parser = ArgumentParser(
        prog="python -m digits.cli.calibrate",
        description="Calibrate saved models in place: fit each one's temperature on the "
        "validation hold-out and record it (and the ECE before and after) in its record.",
    )
    parser.add_argument("models", nargs="+", metavar="MODEL", help=".keras or .h5 models")
    parser.add_argument("--data", default=None, help="MNIST .npz file (default: data/mnist.npz)")
    args = parser.parse_args(argv)
    from digits.calibration import calibrate
    from digits.data import load_mnist, split_validation
    from digits.store import load_model, read_record, save_model

    arrays = load_mnist(args.data or DEFAULT_PATH)
    for path in args.models:
        model, record = load_model(path), read_record(path) or {}
        config = record.get("config") or {}
        limit, size = config.get("limit"), config.get("validation_images", 5000)
        x, y = arrays["x_train"][:limit], arrays["y_train"][:limit]
        _, (x_val, y_val) = split_validation(x, y, size)  # the images train.py held out
        model, summary = calibrate(model, x_val, y_val)
        save_model(model, {**record, "calibration": summary}, path)
        print(
            f"{path}: temperature {summary['temperature']:.3f}, validation ECE "
            f"{100 * summary['validation_ece_before']:.2f}% -> "
            f"{100 * summary['validation_ece_after']:.2f}%"
        )
    return 0


def console():
    """The command line (python -m digits.cli.calibrate, digits-calibrate)."""
    run(main)


if __name__ == "__main__":
    console()
