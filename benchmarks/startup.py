"""One image, from process start to answer: the light path (onnxruntime) against Keras,
and against the light path of another checkout.

    python -m benchmarks.startup                      # 5 runs of each, alternating
    python -m benchmarks.startup --quick              # 1 run of each (the tests)
    python -m benchmarks.startup --before ../before   # and another checkout's light path
                                                      # (git worktree add ../before REV)

Runs `python predict.py --backend onnx IMAGE`, `--backend keras IMAGE` (and the first in
the other checkout) in fresh processes, alternating them so that a slow spell of the
machine hits all of them, and prints each one's median wall time and peak memory (the
process's maximum resident set), and the light path's time as a fraction of the Keras
path's and of the other checkout's.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "tests/digit_images/3-photos-005.jpg"


COMMANDS = {
    "onnx": ["predict.py", "--backend", "onnx"],
    "keras": ["predict.py", "--backend", "keras"],
    "before": ["predict.py", "--backend", "onnx"],  # in the other checkout
}


def one_run(backend, image, before=None):
    """Seconds from start to exit, and peak memory in MB, of one fresh process."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, *COMMANDS[backend], str(ROOT / image) if backend == "before" else image],
        cwd=before if backend == "before" else ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    answer = child.stdout.read().decode().strip()
    child.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(COMMANDS[backend])} failed")
    return seconds, usage.ru_maxrss / 1024, answer  # ru_maxrss is in kilobytes on Linux


def run(repeats, image=IMAGE, before=None):
    runs = {backend: [] for backend in COMMANDS if before or backend != "before"}
    for _ in range(repeats):
        for backend in runs:
            runs[backend].append(one_run(backend, image, before))
    result = {
        backend: {
            "seconds": statistics.median(r[0] for r in rs),
            "peak_memory_mb": max(r[1] for r in rs),
            "answer": rs[0][2],
        }
        for backend, rs in runs.items()
    }
    result["ratio"] = result["onnx"]["seconds"] / result["keras"]["seconds"]
    if before:
        result["ratio_to_before"] = result["onnx"]["seconds"] / result["before"]["seconds"]
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs of each path")
    parser.add_argument("--image", default=IMAGE)
    parser.add_argument("--quick", action="store_true", help="one run of each")
    parser.add_argument("--before", metavar="CHECKOUT", help="also time the light path of this checkout")
    args = parser.parse_args(argv)
    result = run(1 if args.quick else args.repeats, args.image, args.before)
    print(f"predict.py {args.image}, median of {1 if args.quick else args.repeats} fresh processes")
    for backend, label in (
        ("onnx", "light path (onnxruntime)"),
        ("keras", "Keras (TensorFlow)"),
        ("before", f"light path in {args.before}"),
    ):
        if backend in result:
            r = result[backend]
            print(f"  {label:26s} {r['seconds']:5.2f} s  peak {r['peak_memory_mb']:4.0f} MB   {r['answer']}")
    print(f"  light path: x{result['ratio']:.2f} of the Keras path's time"
          + (f", x{result['ratio_to_before']:.2f} of {args.before}'s" if args.before else ""))
    return result


if __name__ == "__main__":
    main()
