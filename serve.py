"""A web page to write a digit or a number on, or to send a photo to, and watch it read.

    python serve.py --help

The code is digits/cli/serve.py; `pip install .` also puts it on PATH as digits-serve.
"""

from digits.cli.serve import console

if __name__ == "__main__":
    console()
