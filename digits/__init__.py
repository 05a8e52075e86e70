"""Shared code for the MNIST scripts: read/ turns a person's picture into a Reading, make/
makes the data and the networks (each side's docstring lists its modules), cli/ holds the
command lines. The read side never imports the make side. What both share is here and
beside it: paths and errors, provenance (the records beside models), metrics, plots, the
results table (report), atomic writes (files), importing Keras quietly (backend).

The top-level scripts (train.py, predict.py, ...) run the commands in cli/; `pip install .`
puts them on PATH as digits-train, digits-predict, ... Importing the package loads no data
and starts no training.
"""

from pathlib import Path


def _home():
    """The folder that holds models/ and data/: the checkout this package sits in, or, for
    a package installed by `pip install .`, the share/mnist-digits/ folder that the install
    put beside its lib/ (pyproject.toml's data-files), in a venv, a --prefix or --user."""
    package = Path(__file__).resolve().parent
    if (package.parent / "models").is_dir():
        return package.parent
    for prefix in package.parents:
        if (prefix / "share" / "mnist-digits" / "models").is_dir():
            return prefix / "share" / "mnist-digits"
    return package.parent


# Files are found beside the code, never in the current folder, so the scripts run from
# anywhere.
HOME = _home()
MODELS = HOME / "models"
DATA = HOME / "data"
FIGURES = HOME / "figures"
# Where a run that is not a recipe's own (a smoke run, another seed, other settings) saves
# its model unless --output says otherwise, so that it never replaces a shipped one.
RUNS = HOME / "runs"

# The model every script that uses one reads unless given --model: the most accurate on
# MNIST's test set and on tests/digit_images (train.py's own default is the MLP, which
# trains in about a minute).
DEFAULT_MODEL = MODELS / "accurate.keras"
# The network that tells a digit from anything else (digits.make.detector), used with any model.
DEFAULT_DETECTOR = MODELS / "detector.keras"
# The network that reads a whole line of ink (digits.make.lines): numbers, and what is not one.
DEFAULT_READER = MODELS / "reader.keras"


# MNIST's classes, the digits 0-9: what every classifier here answers.
NUM_CLASSES = 10


class DigitsError(Exception):
    """An error the user can fix (a missing file, a bad option); the message says how.

    The command-line scripts print it as one line on stderr and exit with status 2.
    """


class DigitsWarning(UserWarning):
    """Something the user should know that does not stop the work; the scripts print it as
    one line on stderr, 'warning: ...'."""
