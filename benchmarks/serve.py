"""The drawing page's server under load, on this machine only (127.0.0.1).

    python -m benchmarks.serve            # 16 clients, 4,000 drawings, 64 stalled, 2 heavy
    python -m benchmarks.serve --quick    # the same code path in a few seconds (the tests)
    python -m benchmarks.serve --backend keras --model models/cnn.keras

Starts `python serve.py` on a free local port, then at once:
  --clients    clients, each sending drawings (280x280 PNGs, as the page sends them) one
               after another on a kept-alive connection, --requests in all
  --stalled    clients that send half a request and then nothing, holding their connection
  --heavy      clients sending, one after another, tiny PNGs that decode to 40 and 12
               megapixels ("decompression bombs"; the first just under predict's cap)
and prints the drawings' requests/s, median and 99th-percentile latency and errors (any
answer but 200, or no answer), what the heavy images got, and the server's peak memory
(VmHWM). Every request goes to 127.0.0.1; each loop is bounded by --requests and time.
"""

import argparse
import contextlib
import http.client
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 600  # seconds: no run goes on longer, whatever happens


def drawing(strokes, size=280, width=18):
    image = Image.new("L", (size, size), 255)
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        pen.line(stroke, fill=0, width=width, joint="curve")
    return png(image)


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


DRAWINGS = [
    drawing([[(60, 60), (220, 60), (130, 240)]]),  # 7
    drawing([[(140, 40), (140, 240)]]),  # 1
    drawing([[(190, 240), (190, 40), (60, 170), (230, 170)]]),  # 4
    drawing([[(70, 60), (200, 60), (200, 140), (80, 140), (80, 230), (210, 230)]]),  # 2-ish
]


def heavy_images():
    """A 7 drawn on white in 8000x5000 and 4000x3000 pixels: PNGs of about 60 and 20 KB
    that decode to 40 and 12 megapixels (the first over the server's limit)."""
    images = []
    for width, height in ((8000, 5000), (4000, 3000)):
        image = Image.new("L", (width, height), 255)
        stroke = [(0.35 * width, 0.2 * height), (0.6 * width, 0.2 * height), (0.5 * width, 0.8 * height)]
        ImageDraw.Draw(image).line(stroke, fill=0, width=width // 25)
        images.append(png(image))
    return images


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port, model, backend, workers=None, threads=None):
    command = [sys.executable, "serve.py", "--port", str(port), "--model", model]
    command += ["--workers", str(workers)] if workers else []
    command += ["--threads", str(threads)] if threads else []
    errors = tempfile.TemporaryFile(mode="w+")  # not a pipe: nobody reads it while it runs
    server = subprocess.Popen(
        [*command, "--backend", backend],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        start_new_session=True,  # its worker processes are stopped with it
    )
    line = server.stdout.readline()  # "serving ... on http://..." once it listens
    if "serving" not in line:
        server.kill()
        errors.seek(0)
        raise SystemExit(f"the server did not start: {line}{errors.read()[-2000:]}")
    return server, line.strip()


def post(connection, body):
    start = time.perf_counter()
    connection.request("POST", "/predict", body=body, headers={"Content-Type": "image/png"})
    response = connection.getresponse()
    payload = response.read()
    return response.status, time.perf_counter() - start, payload


def good_client(port, bodies, budget, results, stop_at):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = 0
    while time.monotonic() < stop_at and budget.take():
        try:
            status, seconds, _ = post(connection, bodies[i % len(bodies)])
        except (OSError, http.client.HTTPException):
            status, seconds = None, None
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        results.append((status, seconds))
        i += 1
    connection.close()


def heavy_client(port, bodies, results, done, stop_at):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    i = 0
    while not done.is_set() and time.monotonic() < stop_at:
        i += 1
        try:
            status, seconds, payload = post(connection, bodies[i % len(bodies)])
            results.append((status, seconds, json.loads(payload).get("error")))
        except (OSError, http.client.HTTPException, ValueError) as err:
            results.append((None, None, str(err)))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.close()


def stall(port):
    """Half a request: headers that promise 100 KB of image, and 10 bytes of it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
        b"Content-Length: 100000\r\n\r\n\x89PNG\r\n\x1a\n\x00\x00"
    )
    return sock


class Budget:
    """A shared count of requests left to send."""

    def __init__(self, count):
        self.left, self.lock = count, threading.Lock()

    def take(self):
        with self.lock:
            self.left -= 1
            return self.left >= 0


def peak_memory_mb(pid):
    """The peak resident memory (VmHWM) of process `pid` and of its children, added up."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if status.parent.name == str(pid) or fields.get("PPid", "").strip() == str(pid):
            total += int(fields["VmHWM"].split()[0]) if "VmHWM" in fields else 0
    return total / 1024


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def run(clients, requests, stalled, heavy, model, backend, workers=None, threads=None):
    port = free_port()
    server, banner = start_server(port, model, backend, workers, threads)
    stop_at = time.monotonic() + DEADLINE
    try:
        held = [stall(port) for _ in range(stalled)]
        good, heavy_results, done = [], [], threading.Event()
        budget = Budget(requests)
        heavy_threads = [
            threading.Thread(
                target=heavy_client, args=(port, heavy_images(), heavy_results, done, stop_at)
            )
            for _ in range(heavy)
        ]
        good_threads = [
            threading.Thread(target=good_client, args=(port, DRAWINGS, budget, good, stop_at))
            for _ in range(clients)
        ]
        for thread in heavy_threads:
            thread.start()
        start = time.perf_counter()
        for thread in good_threads:
            thread.start()
        for thread in good_threads:
            thread.join()
        elapsed = time.perf_counter() - start
        done.set()
        for thread in heavy_threads:
            thread.join()
        still_open = sum(1 for sock in held if _still_open(sock))
        for sock in held:
            sock.close()
        memory = peak_memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # any worker it could not stop
    latencies = [seconds for status, seconds in good if status == 200]
    return {
        "server": banner,
        "clients": clients,
        "requests": len(good),
        "requests_per_second": len(good) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * percentile(latencies, 99) if latencies else float("nan"),
        "errors": sum(1 for status, _ in good if status != 200),
        "stalled": stalled,
        "stalled_still_connected": still_open,
        "heavy_requests": len(heavy_results),
        "heavy_answers": _count(status for status, _, _ in heavy_results),
        "heavy_p50_ms": 1000 * statistics.median(s for st, s, _ in heavy_results if s)
        if any(s for _, s, _ in heavy_results)
        else float("nan"),
        "peak_memory_mb": memory,
    }


def _still_open(sock):
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""  # b"": the server hung up
    except BlockingIOError:
        return True  # nothing to read: still connected, still waiting
    except OSError:
        return False


def _count(statuses):
    counts = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


def report(result):
    heavy = ", ".join(f"{n} x {status or 'no answer'}" for status, n in result["heavy_answers"].items())
    return "\n".join(
        [
            result["server"],
            f"drawings: {result['requests']} from {result['clients']} concurrent clients, "
            f"{result['requests_per_second']:.0f} requests/s, p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}",
            f"stalled clients: {result['stalled']} holding half-sent requests "
            f"({result['stalled_still_connected']} still connected at the end)",
            f"heavy PNGs (40 and 12 megapixels): {result['heavy_requests']} sent ({heavy or 'none'}), "
            f"median answer {result['heavy_p50_ms']:.0f} ms",
            f"server peak memory (all its processes): {result['peak_memory_mb']:.0f} MB",
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000, help="drawings sent in all")
    parser.add_argument("--stalled", type=int, default=64)
    parser.add_argument("--heavy", type=int, default=2)
    parser.add_argument("--model", default="models/accurate.keras")
    parser.add_argument("--backend", default="auto", choices=("auto", "onnx", "keras"))
    parser.add_argument("--workers", type=int, help="serve.py --workers (default: its own)")
    parser.add_argument("--threads", type=int, help="serve.py --threads (default: its own)")
    parser.add_argument(
        "--quick", action="store_true", help="4 clients, 200 drawings, 8 stalled, 1 heavy"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.requests, args.stalled, args.heavy = 4, 200, 8, 1
    result = run(
        args.clients,
        args.requests,
        args.stalled,
        args.heavy,
        args.model,
        args.backend,
        args.workers,
        args.threads,
    )
    print(report(result))
    return result


if __name__ == "__main__":
    main()
