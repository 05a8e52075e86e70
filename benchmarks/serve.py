"""The drawing page's server under load and under slow clients, on 127.0.0.1 only.

    python -m benchmarks.serve            # 16 clients; a flood of 20,000 bodiless requests, 100 trickling
    python -m benchmarks.serve --quick    # the same code path in a few seconds (the tests)
    python -m benchmarks.serve --backend keras --model models/cnn.keras
    python -m benchmarks.serve --before ../before   # and first the quiet phase on another
                                                    # checkout's server (git worktree add ../before REV)

Starts `python serve.py --port 0` and runs three phases on it, each with --clients clients
on 127.0.0.1 sending drawings (280x280 PNGs, as the page sends them) one after another on
kept-alive connections:
  quiet     --requests drawings, nothing else;
  siege     a flood: --flood connections opened from --flood-addresses other local
            addresses (127.0.0.2, ...; a process each), --flood-rate a second in all, each
            sending complete headers that promise a 1 MB image and then nothing, and held
            open; and --trickling more from 127.0.0.100 sending such headers and then the
            body a byte every --trickle-every seconds. The drawings are sent from the
            moment half the flood is open until all of it is, and GET / is asked every
            half second throughout;
  kill      --requests drawings, the trickling still on, and --heavy clients sending tiny
            PNGs that decode to 40 and 12 megapixels ("decompression bombs"; the first over
            the server's cap) one after another, one server process killed with SIGKILL a
            third of the way through: how long until a new one runs, and which requests
            failed.
It prints each phase's requests/s, median and 99th-percentile latency and errors (any
answer but 200, or none), the siege against the quiet phase (targets: at least 80% of its
requests/s, at most twice its p99, no error; GET / answered within 1 s), how many of the
flood's and the trickling connections the server still held at the end, whether every
error the server and the app under it give is JSON, and the peak memory of all the
server's processes (VmHWM; target under 600 MB). Every loop is bounded by time.
"""

import argparse
import contextlib
import http.client
import io
import json
import multiprocessing
import os
import resource
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


def start_server(model, backend, workers=None, checkout=ROOT):
    """`python serve.py --port 0` (in `checkout`) and the banner it prints once it listens."""
    command = [sys.executable, "serve.py", "--port", "0", "--model", model, "--backend", backend]
    command += ["--workers", str(workers)] if workers else []
    errors = tempfile.TemporaryFile(mode="w+")  # not a pipe: nobody reads it while it runs
    server = subprocess.Popen(
        command,
        cwd=checkout,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        start_new_session=True,  # its worker processes are stopped with it
    )
    line = server.stdout.readline()  # "serving ... on http://127.0.0.1:PORT/ ..." once it listens
    if "serving" not in line:
        server.kill()
        errors.seek(0)
        raise SystemExit(f"the server did not start: {line}{errors.read()[-2000:]}")
    port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
    return server, line.strip(), port


def post(connection, body):
    start = time.perf_counter()
    connection.request("POST", "/predict", body=body, headers={"Content-Type": "image/png"})
    response = connection.getresponse()
    payload = response.read()
    return response.status, time.perf_counter() - start, payload


def good_client(port, bodies, budget, results, stop_at, client=0):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = 0
    while time.monotonic() < stop_at and budget.take():
        try:
            status, seconds, _ = post(connection, bodies[i % len(bodies)])
        except (OSError, http.client.HTTPException):
            status, seconds = None, None
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        results.append((status, seconds, client))
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


BODILESS = (  # headers that promise an image, and then nothing
    b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
    b"Content-Length: 1000000\r\n\r\n"
)
TRICKLING_FROM = "127.0.0.100"


def flood(address, port, count, rate, opened, stop, held):
    """In a process of its own (one per flood address): open `count` connections from
    `address`, `rate` a second, each sending BODILESS and then nothing; keep them open until
    `stop`, then put in `held` how many the server still held."""
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    socks, start = [], time.monotonic()
    for i in range(count):
        if stop.is_set():
            break
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(address, 0))
            sock.sendall(BODILESS)
            socks.append(sock)
        except OSError:
            pass  # the attempt counts: a flooder does not wait
        with opened.get_lock():
            opened.value += 1
    stop.wait(DEADLINE)
    held.put(sum(_still_open(sock) for sock in socks))


def trickle(socks, every, stop):
    """Send each of `socks` one more byte of its body every `every` seconds, spread out."""
    gap = every / max(len(socks), 1)
    while not stop.is_set():
        for sock in socks:
            if stop.wait(gap):
                return
            with contextlib.suppress(OSError):
                sock.send(b"x")


def page_latencies(port, stop, latencies, every=0.5):
    """GET / every `every` seconds on a new connection until `stop`: the seconds each took
    (inf: no answer within 10 s)."""
    while not stop.wait(every):
        start = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            connection.close()
            latencies.append(time.perf_counter() - start if response.status == 200 else float("inf"))
        except (OSError, http.client.HTTPException):
            latencies.append(float("inf"))


class Budget:
    """A shared count of requests left to send."""

    def __init__(self, count):
        self.left, self.lock = count, threading.Lock()

    def take(self):
        with self.lock:
            self.left -= 1
            return self.left >= 0


def server_processes(pid):
    """Process `pid` and its children: the arbiter and its server processes."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if status.parent.name == str(pid) or fields.get("PPid", "").strip() == str(pid):
            found.append((int(status.parent.name), fields))
    return found


def peak_memory_mb(pid):
    """The peak resident memory (VmHWM) of process `pid` and of its children, added up."""
    return sum(int(f["VmHWM"].split()[0]) for _, f in server_processes(pid) if "VmHWM" in f) / 1024


def workers_of(pid):
    return sorted(p for p, _ in server_processes(pid) if p != pid)


def kill_a_worker(pid, deadline=30):
    """SIGKILL one of the server's processes; seconds until a new one is running."""
    before = workers_of(pid)
    victim = before[0]
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    while time.monotonic() - killed < deadline:
        now = workers_of(pid)
        if victim not in now and len(now) >= len(before):
            return time.monotonic() - killed
        time.sleep(0.02)
    return float("inf")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def load(port, clients, requests, stop_at, during=None):
    """--clients clients sending `requests` drawings; `during()` runs in the meantime.
    Returns each request's (status, seconds, client) and the wall time."""
    results, budget = [], Budget(requests)
    threads = [
        threading.Thread(target=good_client, args=(port, DRAWINGS, budget, results, stop_at, k))
        for k in range(clients)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    extra = during() if during else None
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - start, extra


def figures(results, elapsed):
    latencies = [seconds for status, seconds, _ in results if status == 200]
    return {
        "requests": len(results),
        "requests_per_second": len(results) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * percentile(latencies, 99) if latencies else float("nan"),
        "errors": sum(1 for status, _, _ in results if status != 200),
    }


BAD_REQUESTS = {
    "a garbled request line": b"GARBAGE\r\n\r\n",
    "a 1 MB header": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n",
    "a negative Content-Length": b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
    b"Content-Length: -5\r\n\r\n",
    "a body over 16 MB": b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
    b"Content-Length: 17000000\r\n\r\n" + b"x" * 65536,
    "text, not an image": b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 5\r\n\r\nhello",
    "an unknown path": b"GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n",
}


def error_answers(port):
    """Each bad request's answer: (status, whether its body is a JSON object with `error`)."""
    answers = {}
    for name, raw in BAD_REQUESTS.items():
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            with contextlib.suppress(OSError):
                sock.sendall(raw)
            reply = b""
            with contextlib.suppress(OSError):
                while chunk := sock.recv(65536):
                    reply += chunk
                    head, _, body = reply.partition(b"\r\n\r\n")
                    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if length and len(body) >= length[0]:
                        break
        head, _, body = reply.partition(b"\r\n\r\n")
        status = int(head.split()[1]) if head.startswith(b"HTTP/") else None
        try:
            is_json = "error" in json.loads(body)
        except ValueError:
            is_json = False
        answers[name] = (status, is_json)
    return answers


def stop_server(server):
    server.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # any worker it could not stop


def quiet_phase(checkout, clients, requests, model, backend, workers=None):
    """The quiet phase alone, on the server of another checkout."""
    server, _, port = start_server(model, backend, workers, checkout)
    try:
        stop_at = time.monotonic() + DEADLINE
        load(port, clients, 8 * clients, stop_at)
        return figures(*load(port, clients, requests, stop_at)[:2])
    finally:
        stop_server(server)


def run(clients, requests, flooding, trickling, every, heavy, model, backend, workers=None):
    """The three phases; `flooding` is (connections, per second, addresses)."""
    count, rate, addresses = flooding
    server, banner, port = start_server(model, backend, workers)
    stop_at = time.monotonic() + DEADLINE
    stop = threading.Event()
    spawn = multiprocessing.get_context("spawn")
    stop_flood, held = spawn.Event(), spawn.Queue()
    opened = [spawn.Value("i", 0) for _ in range(addresses)]
    flooders = [
        spawn.Process(
            target=flood,
            args=(f"127.0.0.{2 + k}", port, count // addresses, rate / addresses, opened[k], stop_flood, held),
        )
        for k in range(addresses)
    ]
    trickle_socks, latencies, probed = [], [], threading.Event()
    try:
        load(port, clients, 8 * clients, stop_at)  # warm-up: every process has read a few
        quiet = figures(*load(port, clients, requests, stop_at)[:2])
        for flooder in flooders:
            flooder.start()
        prober = threading.Thread(target=page_latencies, args=(port, probed, latencies))
        prober.start()
        for _ in range(trickling):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(TRICKLING_FROM, 0))
            sock.sendall(BODILESS)
            trickle_socks.append(sock)
        trickler = threading.Thread(target=trickle, args=(trickle_socks, every, stop))
        trickler.start()
        flood_start = time.monotonic()
        sent = lambda: sum(v.value for v in opened)  # noqa: E731
        while sent() < count // 2 and time.monotonic() < flood_start + 2 * count / rate + 30:
            time.sleep(0.05)
        from_connection = sent()
        flood_end = min(stop_at, flood_start + count / rate)  # when the last should be open
        siege = figures(*load(port, clients, 10**9, flood_end)[:2])
        to_connection = sent()
        probed.set()
        heavy_results = []
        heavy_threads = [
            threading.Thread(target=heavy_client, args=(port, heavy_images(), heavy_results, stop, stop_at))
            for _ in range(heavy)
        ]
        for thread in heavy_threads:
            thread.start()

        def kill_soon():
            time.sleep(requests / quiet["requests_per_second"] / 3)
            return kill_a_worker(server.pid)

        results, elapsed, replaced_after = load(port, clients, requests, stop_at, during=kill_soon)
        killed = figures(results, elapsed)
        failed_by_client = _count(client for status, _, client in results if status != 200)
        errors = error_answers(port)
        stop.set()
        for thread in [trickler, prober, *heavy_threads]:
            thread.join()
        trickling_open = sum(1 for sock in trickle_socks if _still_open(sock))
        stop_flood.set()
        flood_held = sum(held.get(timeout=60) for _ in flooders)
        memory = peak_memory_mb(server.pid)
    finally:
        stop.set()
        probed.set()
        stop_flood.set()
        for flooder in flooders:
            flooder.join(timeout=60)
        for sock in trickle_socks:
            sock.close()
        stop_server(server)
    return {
        "server": banner,
        "clients": clients,
        "quiet": quiet,
        "siege": siege,
        "kill": killed,
        "flood": count,
        "flood_rate": rate,
        "flood_addresses": addresses,
        "siege_from_connection": from_connection,
        "siege_to_connection": to_connection,
        "flood_still_held": flood_held,
        "page_requests": len(latencies),
        "page_slowest_s": max(latencies, default=float("nan")),
        "trickling": trickling,
        "trickle_every": every,
        "trickling_still_connected": trickling_open,
        "replaced_after_s": replaced_after,
        "clients_that_failed": len(failed_by_client),
        "most_failures_of_a_client": max(failed_by_client.values(), default=0),
        "heavy_requests": len(heavy_results),
        "heavy_answers": _count(status for status, _, _ in heavy_results),
        "heavy_p50_ms": 1000 * statistics.median(s for st, s, _ in heavy_results if s)
        if any(s for _, s, _ in heavy_results)
        else float("nan"),
        "error_answers": errors,
        "peak_memory_mb": memory,
    }


def _still_open(sock):
    """Whether the server still holds `sock` open (whatever it answered on it)."""
    sock.setblocking(False)
    try:
        while sock.recv(65536):  # an answer, perhaps a 408 or 429 before the server hung up
            pass
        return False  # b"": the server hung up
    except BlockingIOError:
        return True  # nothing more to read: still connected, still waiting
    except OSError:
        return False


def _count(statuses):
    counts = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


def report(result):
    from digits.cli.serve import PAUSE, PER_ADDRESS, REQUEST_SECONDS  # not in the flood's processes

    def phase(name, f):
        return (
            f"{name}: {f['requests']} drawings from {result['clients']} clients, "
            f"{f['requests_per_second']:.0f} requests/s, p50 {f['p50_ms']:.1f} ms, "
            f"p99 {f['p99_ms']:.1f} ms, errors {f['errors']}"
        )

    quiet, siege = result["quiet"], result["siege"]
    heavy = ", ".join(f"{n} x {status or 'no answer'}" for status, n in result["heavy_answers"].items())
    json_errors = sum(is_json for _, is_json in result["error_answers"].values())
    return "\n".join(
        [
            result["server"],
            phase("quiet", quiet),
            phase(
                f"siege (a flood of {result['flood']} connections, {result['flood_rate']:g} a second from "
                f"{result['flood_addresses']} addresses, each sending headers and no body; "
                f"{result['trickling']} trickling a byte of body every {result['trickle_every']:g} s; "
                f"drawings sent while flood connections {result['siege_from_connection']} to "
                f"{result['siege_to_connection']} were opened)",
                siege,
            ),
            f"  siege against quiet: x{siege['requests_per_second'] / quiet['requests_per_second']:.2f} "
            f"requests/s (target >= 0.80), x{siege['p99_ms'] / quiet['p99_ms']:.2f} p99 "
            f"(target <= 2), {siege['errors']} errors (target 0)",
            f"  GET / asked {result['page_requests']} times during the flood: the slowest answer "
            f"{result['page_slowest_s']:.3f} s (target < 1)",
            f"  still held by the server at the end: {result['flood_still_held']} of the "
            f"{result['flood']} flood connections, {result['trickling_still_connected']} of the "
            f"{result['trickling']} trickling (a request must arrive whole within {REQUEST_SECONDS} s, "
            f"pausing no more than {PAUSE} s; each address may hold {PER_ADDRESS} connections per "
            f"server process)",
            phase(
                "kill (heavy images too, and a server process killed with SIGKILL a third of "
                "the way)",
                result["kill"],
            ),
            f"  replaced after {result['replaced_after_s']:.2f} s (target <= 5); failed requests "
            f"came from {result['clients_that_failed']} clients, at most "
            f"{result['most_failures_of_a_client']} each (their connection was to the killed process)",
            f"heavy PNGs (40 and 12 megapixels): {result['heavy_requests']} sent ({heavy or 'none'}), "
            f"median answer {result['heavy_p50_ms']:.0f} ms",
            f"error answers that are JSON: {json_errors} of {len(result['error_answers'])} ("
            + ", ".join(f"{name}: {status}" for name, (status, _) in result["error_answers"].items())
            + ")",
            f"server peak memory (all its processes): {result['peak_memory_mb']:.0f} MB (target < 600)",
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000, help="drawings sent in the quiet and kill phases")
    parser.add_argument("--flood", type=int, default=20000, help="connections that send headers and no body")
    parser.add_argument("--flood-rate", type=float, default=300, help="flood connections opened a second")
    parser.add_argument("--flood-addresses", type=int, default=4, help="local addresses the flood comes from")
    parser.add_argument("--trickling", type=int, default=100, help="connections sending a body a byte at a time")
    parser.add_argument("--trickle-every", type=float, default=1.0, help="seconds between their bytes")
    parser.add_argument("--heavy", type=int, default=2)
    parser.add_argument("--model", default="models/accurate.keras")
    parser.add_argument("--backend", default="auto", choices=("auto", "onnx", "keras"))
    parser.add_argument("--workers", type=int, help="serve.py --workers (default: its own)")
    parser.add_argument(
        "--quick", action="store_true", help="4 clients, 200 drawings, a flood of 600, 8 trickling, 1 heavy"
    )
    parser.add_argument("--before", metavar="CHECKOUT", help="first the quiet phase on this checkout's server")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.requests, args.flood, args.trickling, args.heavy = 4, 200, 600, 8, 1
    # every trickling connection is an open file here (the flood's are its processes')
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.trickling + 1024)), hard))
    before = args.before and quiet_phase(args.before, args.clients, args.requests, args.model, args.backend, args.workers)
    result = run(
        args.clients,
        args.requests,
        (args.flood, args.flood_rate, args.flood_addresses),
        args.trickling,
        args.trickle_every,
        args.heavy,
        args.model,
        args.backend,
        args.workers,
    )
    print(report(result))
    if before:
        result["before_quiet"] = before
        print(f"quiet phase on {args.before}'s server: {before['requests_per_second']:.0f} requests/s, "
              f"p99 {before['p99_ms']:.1f} ms; this checkout's: x{result['quiet']['requests_per_second'] / before['requests_per_second']:.2f} "
              f"requests/s (target >= 0.80)")
    return result


if __name__ == "__main__":
    main()
