"""Writing files so that a crash or Ctrl-C never leaves a half-written one in place."""

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from digits import DigitsError


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside `path`; move it onto `path` only if the block succeeds.

    The temporary name keeps the suffix, because Keras and matplotlib pick the format
    from it. On any exception (KeyboardInterrupt included) the temporary file is
    removed and whatever stood at `path` before is left untouched. An OSError (no
    permission, disk full, a file where a folder should be) becomes a DigitsError.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
        )
        os.close(fd)
        tmp = Path(name)
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; give it a normal file's mode
        os.replace(tmp, path)
    except OSError as err:
        raise DigitsError(f"cannot write {path}: {err.strerror or err}") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def sha256_of(path):
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def record_path(model_path):
    """models/mlp.keras -> models/mlp.json, the training record train.py writes beside it."""
    return Path(model_path).with_suffix(".json")


def read_record(model_path):
    """The training record beside a model, or None if there is none or it is unreadable."""
    try:
        record = json.loads(record_path(model_path).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, obj):
    """Write `obj` as indented JSON, atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2) + "\n")
