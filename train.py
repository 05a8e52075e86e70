"""Train a network on MNIST and save it to models/.

    python train.py --help

The code is digits/cli/train.py; `pip install .` also puts it on PATH as digits-train.
"""

from digits.cli.train import console

if __name__ == "__main__":
    console()
