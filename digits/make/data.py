"""MNIST on disk and in memory: data/mnist.npz, checked, and the validation hold-out.

The repository carries MNIST as data/mnist.npz, in the layout that
keras.datasets.mnist.load_data() returns; digits.make.idx rebuilds it from the four original
IDX files.
"""

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from digits import DATA, NUM_CLASSES, DigitsError
from digits.files import atomic_output

DEFAULT_PATH = DATA / "mnist.npz"

# SHA-256 over the four arrays (see array_checksum), the same for our file and for the
# mnist.npz that keras.datasets.mnist downloads: both hold the genuine MNIST.
MNIST_SHA256 = "869043a08a4d18821fa17546401bfbe66053b5e347a0a99c9ae9e6cbd1f08db0"

# Key -> (shape, number of examples) of each array, in the order the checksum reads them.
SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
VALIDATION_SIZE = 5000
VALIDATION_SEED = 0  # fixed, so every model is selected on the same held-out images

# ------------------------------------------------------------------- data/mnist.npz


def array_checksum(arrays):
    """SHA-256 over each array's name, dtype, shape and bytes, in the order of SHAPES."""
    digest = hashlib.sha256()
    for key in SHAPES:
        a = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{a.dtype.str}:{a.shape};".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def check_mnist(arrays, source):
    """Raise DigitsError unless `arrays` is exactly the genuine MNIST."""
    missing = [k for k in SHAPES if k not in arrays]
    if missing:
        raise DigitsError(f"{source}: missing arrays {', '.join(missing)}")
    for key, shape in SHAPES.items():
        a = arrays[key]
        if a.dtype != np.uint8 or a.shape != shape:
            raise DigitsError(f"{source}: {key} is {a.dtype} {a.shape}, expected uint8 {shape}")
    for key in ("y_train", "y_test"):
        if arrays[key].max() >= NUM_CLASSES:
            raise DigitsError(f"{source}: {key} has labels outside 0..9")
    if array_checksum(arrays) != MNIST_SHA256:
        raise DigitsError(f"{source}: checksum mismatch, the data has been altered or is not MNIST")


def read_npz(path):
    """Read the four arrays from an .npz file without ever unpickling anything, once each
    array's header has said it is MNIST's dtype and shape (a header may claim any size)."""
    try:
        check_npz_headers(path)
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files if key in SHAPES}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise DigitsError(f"{path}: corrupt or truncated data file ({err})") from None


def check_npz_headers(path):
    """Raise DigitsError unless every MNIST array in the .npz at `path` says, in its .npy
    header, that it is uint8 of MNIST's shape; nothing but the headers is read."""
    with zipfile.ZipFile(path) as archive:
        for key, shape in SHAPES.items():
            name = f"{key}.npy"
            if name not in archive.namelist():
                continue  # check_mnist names what is missing
            with archive.open(name) as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                found, _, dtype = read_header(member)
            if found != shape or dtype != np.uint8:
                raise DigitsError(f"{path}: corrupt or not MNIST: {key} is {dtype} {found}, expected uint8 {shape}")


def write_npz(arrays, path):
    """Write the four arrays, compressed, replacing `path` only once fully written."""
    with atomic_output(path) as tmp:
        np.savez_compressed(tmp, **{key: arrays[key] for key in SHAPES})


def download_mnist():
    """keras.datasets.mnist.load_data() as a dict; it needs the internet the first time."""
    from digits.backend import keras  # deferred: slow to import, and rarely needed here

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def load_mnist(path=DEFAULT_PATH, download=download_mnist):
    """Return the verified MNIST arrays: x_train, y_train, x_test, y_test (uint8).

    Reads `path`; when the repository's own copy is missing, falls back to `download`
    (Keras's copy). Any other path that does not exist is an error.
    """
    path = Path(path)
    if path.is_dir():
        raise DigitsError(f"{path} is a directory, expected the MNIST .npz file")
    if not path.exists() and path.resolve() != DEFAULT_PATH.resolve():
        raise DigitsError(f"{path}: no such file; --data takes an MNIST .npz file (default {DEFAULT_PATH.name})")
    if path.exists():
        arrays = read_npz(path)
        check_mnist(arrays, str(path))
        return arrays
    try:
        arrays = download()
    except Exception as err:  # any failure here means: no internet, no cache
        raise DigitsError(
            f"{path} is missing and the download by keras.datasets.mnist.load_data() failed "
            f"({type(err).__name__}); restore the repository's copy with "
            f"'git checkout -- data/mnist.npz', or download the four MNIST IDX files and run "
            f"'python -m digits.make.idx DIR'"
        ) from None
    check_mnist(arrays, "keras.datasets.mnist")
    return arrays


# -------------------------------------------------------------------- for training


def split_validation(x, y, size=VALIDATION_SIZE, seed=VALIDATION_SEED):
    """Hold out `size` random training examples: returns (x_fit, y_fit), (x_val, y_val).

    The same seed always holds out the same images, whatever the training seed is.
    """
    if not 0 < size < len(x):
        raise DigitsError(
            f"a validation hold-out of {size} leaves nothing to train on out of {len(x)} "
            f"images; choose a --validation-size below {len(x)}"
        )
    order = np.random.default_rng(seed).permutation(len(x))
    fit, val = order[size:], order[:size]
    return (x[fit], y[fit]), (x[val], y[val])
