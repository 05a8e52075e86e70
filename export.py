"""Export a trained model to run outside this project: ONNX, LiteRT or TensorFlow SavedModel.

    python export.py --help

The code is digits/cli/export.py; `pip install .` also puts it on PATH as digits-export.
"""

from digits.cli.export import console

if __name__ == "__main__":
    console()
