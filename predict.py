"""Read your own pictures of digits and numbers with a trained model.

    python predict.py --help

The code is digits/cli/predict.py; `pip install .` also puts it on PATH as digits-predict.
"""

from digits.cli.predict import console

if __name__ == "__main__":
    console()
