"""Shared code for the MNIST scripts: data, models, training, evaluation and plots.

The top-level scripts (train.py, evaluate.py, visualize.py) are thin command-line
front ends over this package. Importing it loads no data and starts no training.
"""


class DigitsError(Exception):
    """An error the user can fix (a missing file, a bad option); the message says how.

    The command-line scripts print it as one line on stderr and exit with status 2.
    """
