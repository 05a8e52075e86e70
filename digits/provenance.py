"""Where a file came from, in one place: the JSON record beside each model and each export,
the checksums that tie a record to its file, the command line and library versions that
made it.

    models/cnn.keras        a model
    models/cnn.json         its record (record_path): command, configuration, seed, library
                            versions, data checksum, history, the file's SHA-256 and its
                            weights' (weights_sha256)
    models/cnn.onnx.json    an export's record (export_record_path): the model file it was
                            made from (source_sha256) and its parity with Keras
"""

import contextlib
import hashlib
import json
import platform
import shlex
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from digits import DigitsWarning


class RecordMismatch(DigitsWarning):
    """The JSON record beside a model describes another file (its checksum differs)."""


def record_path(model_path):
    """models/mlp.keras -> models/mlp.json, the record saved beside the model."""
    return Path(model_path).with_suffix(".json")


def export_record_path(exported):
    """models/accurate.onnx -> models/accurate.onnx.json."""
    return Path(exported).with_name(Path(exported).name + ".json")


def read_record(path):
    """The JSON record at `path` (or beside the model at `path`), or None if there is none
    or it is unreadable."""
    path = Path(path)
    try:
        record = json.loads((path if path.suffix == ".json" else record_path(path)).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def weights_sha256(model):
    """SHA-256 over a model's weights, in order: their dtypes, shapes and bytes. The same for
    identical runs, where a .keras file's is not (its zip records when it was saved)."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        weight = np.ascontiguousarray(weight)
        digest.update(f"{weight.dtype.str}{weight.shape};".encode())
        digest.update(weight.tobytes())
    return digest.hexdigest()


def command_line(script, argv):
    """The command a record says made it: 'python train.py --model cnn'."""
    return shlex.join(["python", *script.split(), *argv])


LIBRARIES = ("keras", "numpy", "h5py", "matplotlib")  # recorded beside the backend library


def library_versions(backend="tensorflow"):
    """Versions of what made a file: Python, Keras, its backend library, and the rest."""
    versions = {"python": platform.python_version()}
    # tensorflow installs as tensorflow-cpu too (requirements-train.txt)
    for name, packages in ((backend, (backend, f"{backend}-cpu")), *((p, (p,)) for p in LIBRARIES)):
        for package in packages:
            with contextlib.suppress(PackageNotFoundError):
                versions[name] = version(package)
                break
    return versions

