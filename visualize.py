"""Draw a saved model's results on the MNIST test images as PNG files.

    python visualize.py --help

The code is digits/cli/visualize.py; `pip install .` also puts it on PATH as digits-visualize.
"""

from digits.cli.visualize import console

if __name__ == "__main__":
    console()
