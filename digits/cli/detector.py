"""Train the not-a-digit detector (digits.detector) and write models/detector.keras.

    python -m digits.cli.detector

Keras is imported only once the flags are read, so --help and the light install's
one-line error come at once.
"""

import shlex
import sys

from digits import DEFAULT_DETECTOR
from digits.cli import ArgumentParser, run, seed
from digits.data import DEFAULT_PATH, load_mnist


def main(argv=None):

    parser = ArgumentParser(prog="python -m digits.cli.detector", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=str(DEFAULT_DETECTOR), help="where to save it")
    parser.add_argument("--seed", type=seed, default=0, help="random seed")
    args = parser.parse_args(argv)
    from digits.detector import train_detector
    from digits.store import save_model
    from digits.training import library_versions
    model, record = train_detector(load_mnist(DEFAULT_PATH), seed=args.seed)
    record = {
        "command": shlex.join(["python", "-m", "digits.cli.detector", *(sys.argv[1:] if argv is None else argv)]),
        "model": "detector",
        **record,
        "versions": library_versions(),
    }
    save_model(model, record, args.output)
    print(
        f"saved {args.output}: threshold {record['threshold']:.3f} refuses "
        f"{100 * record['held_out_digits_refused']:.2f}% of {record['held_out_digits']} held-out "
        f"digits and {100 * record['held_out_nondigits_refused']:.1f}% of "
        f"{record['held_out_nondigits']} held-out non-digit pieces"
    )
    return 0


def console():
    """The command line (python -m digits.cli.detector)."""
    run(main)


if __name__ == "__main__":
    console()
