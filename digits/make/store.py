"""Saving a model with its JSON record beside it (digits.provenance), each file atomically."""

import contextlib
import logging
from pathlib import Path

from digits import DigitsError
from digits.files import atomic_output, write_json
from digits.provenance import record_path, sha256_of, weights_sha256
from digits.read.models import MODEL_SUFFIXES


def check_output_path(path):
    """Fail before training, not after, if a model could not be saved at `path`."""
    path = Path(path)
    if path.suffix not in MODEL_SUFFIXES:
        raise DigitsError(f"--output {path}: the file name must end in .keras or .h5")
    if path.is_dir():
        raise DigitsError(
            f"--output {path} is a directory; give a file name such as {path}/mlp.keras"
        )
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise DigitsError(f"--output {path}: {parent} is a file, not a directory")


@contextlib.contextmanager
def _no_legacy_format_warning():
    """Keras warns that .h5 is a legacy format; whoever asked for .h5 knows."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def save_model(model, record, path, h5_copy=False):
    """Write the model (and an .h5 copy if asked) and its JSON record, each atomically.

    The model is saved without optimizer state (it would triple the file for no use: using
    a model needs only its weights); the record gets each file's SHA-256, and the weights'
    (weights_sha256): the same for identical runs, where a .keras file's is not (its zip
    records when it was saved).
    """
    path = Path(path)
    check_output_path(path)
    targets = [path] + ([path.with_suffix(".h5")] if h5_copy and path.suffix != ".h5" else [])
    # An uncompiled copy: the .keras format stores the optimizer of a compiled model.
    bare = model.__class__.from_config(model.get_config())
    bare.set_weights(model.get_weights())
    for target in targets:
        with atomic_output(target) as tmp, _no_legacy_format_warning():
            bare.save(tmp)
    files = {t.name: sha256_of(t) for t in targets}
    write_json(record_path(path), {**record, "weights_sha256": weights_sha256(bare), "files": files})
    return targets
