"""Calibrate saved models in place: fit each one's temperature on the validation hold-out.

    python -m digits.cli.calibrate models/cnn.keras [...]     # digits-calibrate when installed

See digits/make/calibration.py for what temperature scaling is. Keras is imported only once
the flags are read, so --help and the light install's one-line error come at once.
"""

from digits.cli import ArgumentParser, run
from digits.make.data import DEFAULT_PATH


def main(argv=None):
    parser = ArgumentParser(
        prog="python -m digits.cli.calibrate",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("models", nargs="+", metavar="MODEL", help=".keras or .h5 models")
    parser.add_argument("--data", default=None, help="MNIST .npz file (default: data/mnist.npz)")
    args = parser.parse_args(argv)
    from digits.make.calibration import calibrate
    from digits.make.data import VALIDATION_SIZE, load_mnist
    from digits.make.store import save_model
    from digits.make.training import digit_sets
    from digits.provenance import read_record
    from digits.read.models import load_model

    arrays = load_mnist(args.data or DEFAULT_PATH)
    for path in args.models:
        model, record = load_model(path), read_record(path) or {}
        config = record.get("config") or {}
        size = config.get("validation_images", VALIDATION_SIZE)
        _, val = digit_sets(arrays, size, config.get("limit"), None)  # what train.py held out
        model, summary = calibrate(model, *val)
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
