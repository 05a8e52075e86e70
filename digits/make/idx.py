"""MNIST's original IDX files -> data/mnist.npz.

The four files (plain or .gz), as distributed by LeCun, Cortes and Burges:

    python -m digits.make.idx DIR [--output data/mnist.npz]
"""

import gzip
from pathlib import Path

import numpy as np

from digits import DigitsError
from digits.cli import ArgumentParser, run
from digits.make.data import DEFAULT_PATH, array_checksum, check_mnist, write_npz

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}



def parse_idx(raw, name="IDX data"):
    """Decode the bytes of one IDX file into a numpy array (native byte order).

    Layout: two zero bytes, a type code, the number of dimensions, then one big-endian
    uint32 per dimension, then the values in row-major order. Anything that does not
    add up exactly (a short file, trailing bytes, an unknown type) is a DigitsError.
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DigitsError(f"{name}: not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        raise DigitsError(f"{name}: not an IDX file (unknown type code 0x{code:02x})")
    if ndim == 0:
        raise DigitsError(f"{name}: IDX file with no dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DigitsError(f"{name}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "has trailing bytes"
        raise DigitsError(
            f"{name}: IDX file {problem}: header says {shape} values, "
            f"so {expected} bytes, but it has {len(raw)}"
        )
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read an IDX file from disk; gzip-compressed files (.gz) are unpacked on the fly."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:
        raise DigitsError(f"cannot read {path}: {err}") from None
    return parse_idx(raw, name=str(path))


def read_idx_dir(directory):
    """Read the four MNIST IDX files from `directory` into a dict of arrays."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DigitsError(f"{directory} is not a directory (expected the four MNIST IDX files)")
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [directory / stem, directory / f"{stem}.gz"]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise DigitsError(f"{directory}: missing {stem} (or {stem}.gz)")
        arrays[key] = read_idx(found)
    return arrays


def main(argv=None):
    parser = ArgumentParser(
        prog="python -m digits.make.idx",
        description="Build data/mnist.npz from the original MNIST IDX files.",
    )
    parser.add_argument("directory", help="folder holding train-images-idx3-ubyte and the other three (plain or .gz)")
    parser.add_argument("--output", default=str(DEFAULT_PATH), help="where to write")
    args = parser.parse_args(argv)

    arrays = read_idx_dir(args.directory)
    check_mnist(arrays, args.directory)
    write_npz(arrays, args.output)
    print(f"wrote {args.output}: sha256 of the arrays {array_checksum(arrays)}")
    return 0


if __name__ == "__main__":
    run(main)
