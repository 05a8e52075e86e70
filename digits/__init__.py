"""Shared code for the MNIST scripts: data, models, training, evaluation and plots.

The top-level scripts (train.py, evaluate.py, visualize.py) are thin command-line
front ends over this package. Importing it loads no data and starts no training.
"""

# The model predict.py and serve.py read your digits with unless given --model: the most
# accurate on MNIST's test set and on tests/digit_images.
DEFAULT_MODEL = "models/best.keras"


class DigitsError(Exception):
    """An error the user can fix (a missing file, a bad option); the message says how.

    The command-line scripts print it as one line on stderr and exit with status 2.
    """
