"""Keras, imported without TensorFlow's start-up chatter.

TensorFlow writes a few notices (oneDNN, CPU features) straight to file descriptor 2
while it loads, before its own logging is set up, so TF_CPP_MIN_LOG_LEVEL cannot hide
them all. Modules here import Keras as `from digits.backend import keras`; anything else
TensorFlow writes while loading, such as a real warning or error, is passed on.
"""

import os
import sys
import tempfile

_START_UP_NOISE = (
    "All log messages before absl::InitializeLog()",
    "oneDNN custom operations are on",
)


def _import_keras_quietly():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules:
        return sys.modules["keras"]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import keras
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode(errors="replace").splitlines(keepends=True):
                if not any(noise in line for noise in _START_UP_NOISE):
                    sys.stderr.write(line)
    return keras


keras = _import_keras_quietly()
