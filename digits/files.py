"""Writing files so that a crash or Ctrl-C never leaves a half-written one in place."""

import contextlib
import json
import os
import shutil
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


@contextlib.contextmanager
def atomic_directory(path):
    """atomic_output for a folder (a SavedModel): yield a path beside `path` for the block
    to create, then swap it in for whatever stood at `path`; on failure, remove it."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)) / "new"
        yield tmp
        if path.exists():
            old = tmp.parent / "old"
            os.replace(path, old)  # two renames: the folder is whole at every moment but one
        os.replace(tmp, path)
    except OSError as err:
        raise DigitsError(f"cannot write {path}: {err.strerror or err}") from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp.parent, ignore_errors=True)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, obj):
    """Write `obj` as indented JSON, atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2) + "\n")
