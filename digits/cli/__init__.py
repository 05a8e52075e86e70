"""What the three scripts share on the command line: flag parsing and error reporting.

Every mistake a user can make ends the same way: one line on stderr saying what is
wrong and what to do, and exit status 2. No traceback.
"""

import argparse
import math
import sys
import warnings

from digits import DigitsError, DigitsWarning


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each flag's default, unless there is none to show or the help says it."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line (argparse's own error is usage + message)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(**kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text):
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def seed(text):
    """A random seed: a whole number from 0 to 2**32 - 1, as numpy and TensorFlow accept."""
    value = whole_number(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 4294967295")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def probability(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a probability from 0 to 1")
    return value


def percent(p):
    """A probability as a percentage, rounded down as the drawing page shows it: 0.9996 is
    "99.9%", never a "100.0%" it is not."""
    return f"{math.floor(1000 * p) / 10:.1f}%"


# What requirements-train.txt adds to the light install (requirements-infer.txt): training,
# evaluating, drawing and exporting need them.
FULL_INSTALL = ("keras", "tensorflow", "matplotlib", "h5py", "tf2onnx", "onnx", "ai_edge_litert")


def run(main):
    """Call main() and exit with its status; a DigitsError becomes one line and exit 2."""
    warnings.showwarning = _one_line_warning
    try:
        sys.exit(main())
    except DigitsError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except ImportError as err:
        package = (err.name or "").split(".")[0]
        if package not in FULL_INSTALL:
            raise
        print(
            f"error: this needs {package}, which the light install (requirements-infer.txt) "
            f"leaves out: pip install -r requirements.txt (or, installed, pip install '.[train]')",
            file=sys.stderr,
        )
        sys.exit(2)
    except BrokenPipeError:  # output piped into `head` and cut short: not an error
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        print("interrupted; nothing was saved", file=sys.stderr)
        sys.exit(130)


_show_warning = warnings.showwarning


def _one_line_warning(message, category, *args, **kwargs):
    """The project's own warnings as one line, 'warning: ...'; others as Python prints them."""
    if issubclass(category, DigitsWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        _show_warning(message, category, *args, **kwargs)
