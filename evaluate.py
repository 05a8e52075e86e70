"""Report a saved model's accuracy on the 10,000 MNIST test images.

    python evaluate.py --help

The code is digits/cli/evaluate.py; `pip install .` also puts it on PATH as digits-evaluate.
"""

from digits.cli.evaluate import console

if __name__ == "__main__":
    console()
