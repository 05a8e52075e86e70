"""A web page to write a digit or a number on, or to send a photo to, and watch it read.

    python serve.py                        # http://127.0.0.1:8000, models/accurate.keras
    python serve.py --port 0               # any free port: the address is printed
    python serve.py --port 5000 --model models/cnn.keras
    python serve.py --host 0.0.0.0         # reachable from other machines (a warning says so)

Serves one page (a canvas to write on with mouse or finger, a button to send a photo or an
image file; the picture with a box on each digit read, the number, each digit's
confidence, the probabilities of the digit pointed at, the 28x28 images the model saw)
and an API: POST /predict, which takes an image and answers in JSON, read exactly as
predict.py reads it (digits.read.reading), GET /health and GET /api (its OpenAPI
description; the details are in digits.read.web). Each request gets a line on stderr (the
access log; --no-access-log: none). The models run on onnxruntime when their exported
.onnx files are there (see --backend). Stop it with Ctrl-C.

The process model: this process is gunicorn's arbiter, which keeps --workers server
processes running and replaces one that dies within a second. Each runs the app on
gevent, one greenlet per connection, so a client that sends half a request, or a byte
every few seconds, holds a connection (a few kilobytes) and never a thread: up to
CONNECTIONS of them per process, with the open-file limit raised to match. Every error
response is JSON, gunicorn's own (a garbled request line, a header over 8 KB) included.
"""

import ipaddress
import json
import os
import resource
import socket
import subprocess
import sys
from pathlib import Path

import gevent
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker

from digits import DigitsError
from digits.cli import ArgumentParser, positive_int, run
from digits.cli.predict import add_reader_arguments
from digits.read.onnx_model import OnnxModel
from digits.read.reading import open_reader
from digits.read.web import create_app

CONNECTIONS = 10_000  # open connections per server process, idle and half-sent ones included


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on; 0 for any free one"
    )
    add_reader_arguments(parser)
    parser.add_argument(
        "--workers",
        type=positive_int,
        help="server processes (default: one per core with onnxruntime, one with Keras)",
    )
    parser.add_argument(
        "--cors", metavar="ORIGIN", help="let pages from ORIGIN (https://example.org, or *) call the API"
    )
    parser.add_argument(
        "--no-access-log", action="store_true", help="no line on stderr for each request"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    listener = listen(args.host, args.port)

    settings = (args.model, args.reader, args.detector, args.backend, args.min_confidence)
    light = check_reader(settings)
    # One process per core for the light path; a Keras model is one process (TensorFlow
    # uses every core itself, and each process would hold its own 600 MB).
    workers = args.workers or (len(os.sched_getaffinity(0)) if light else 1)
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}: anyone who can reach this machine can use "
            f"the page",
            file=sys.stderr,
        )
    allow_open_files(workers * CONNECTIONS + 64)
    host, port = listener.getsockname()[:2]
    address = f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def ready(arbiter):
        runtime = "onnxruntime" if light else "Keras"
        print(
            f"serving {args.model} ({runtime}, {workers} process{'es' if workers > 1 else ''}) "
            f"on {address} (Ctrl-C stops)",
            flush=True,
        )

    def make_app():  # in each server process, which opens its own Reader
        # Pictures are read in the process's pool of threads, not on gevent's loop, which
        # serves every connection: a 12-megapixel photo takes a second to decode and read.
        threads = gevent.get_hub().threadpool
        return create_app(open_reader(*settings), in_thread=threads.apply, cors=args.cors)

    server = Server(
        make_app,
        bind=[f"fd://{listener.fileno()}"],
        workers=workers,
        worker_class=Worker,
        worker_connections=CONNECTIONS,
        keepalive=15,  # seconds a connection has to send its request's headers, or its next request
        graceful_timeout=5,
        when_ready=ready,
        loglevel="warning",
        proc_name="serve.py",
        accesslog=None if args.no_access_log else "/dev/stderr",
        access_log_format='%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms',
    )
    arbiter = os.getpid()
    try:
        server.run()
    except SystemExit as stop:  # the arbiter leaves this way, Ctrl-C included; so do the
        if os.getpid() != arbiter or stop.code not in (0, None):  # server processes it forks
            raise
    print("stopped")
    return 0


def check_reader(settings):
    """Open the Reader once, so that a bad model, reader or detector is one clear line;
    whether it runs on onnxruntime. In a process of its own: this one forks the server
    processes, and TensorFlow once loaded does not survive a fork (each opens its own)."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from digits.cli import run, serve; "
        "run(lambda: print(json.dumps(serve.runs_on_onnxruntime(json.loads(sys.argv[2])))))"
    )
    package_folder = Path(__file__).resolve().parents[2]  # where `import digits` finds it
    done = subprocess.run(
        [sys.executable, "-c", code, str(package_folder), json.dumps(settings, default=str)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        lines = done.stderr.strip().splitlines() or ["the models could not be opened"]
        raise DigitsError(lines[-1].removeprefix("error: "))
    return json.loads(done.stdout.strip().splitlines()[-1])


def runs_on_onnxruntime(settings):
    return isinstance(open_reader(*settings).model, OnnxModel)


class Server(BaseApplication):
    """gunicorn, told what to run in code rather than by a command line or a file."""

    def __init__(self, make_app, **settings):
        self.make_app, self.settings = make_app, settings
        super().__init__()

    def load_config(self):
        for key, value in self.settings.items():
            self.cfg.set(key, value)

    def load(self):
        return self.make_app()


class Worker(GeventWorker):
    """gunicorn's gevent worker, with its own error answers in JSON, as the app's are."""

    def init_process(self):
        util.write_error = write_json_error
        super().init_process()


def write_json_error(sock, status_int, reason, mesg):
    """What gunicorn answers a request it cannot parse, as {"error": ...} (util.write_error)."""
    body = json.dumps({"error": f"{reason}: {mesg}" if mesg else reason}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin1") + body)


def listen(host, port):
    """The listening socket, or one clear line if it cannot be had (port 0: any free one).
    The server takes this very socket, so no other program can take the port in between."""
    if not 0 <= port <= 65535:
        raise DigitsError(f"--port {port}: a port is a number from 0 to 65535")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as err:
        raise DigitsError(f"--host {host}: not an address of this machine ({err})") from None
    try:
        listener = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as err:
        raise DigitsError(
            f"cannot listen on {host}:{port} ({err.strerror}); choose another --port"
        ) from None
    listener.set_inheritable(True)
    return listener


def allow_open_files(count):
    """Raise this process's open-file limit (its server processes inherit it) towards
    `count`, as far as the system allows: each connection is an open file."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def console():
    """The command line (python serve.py, digits-serve): main() with one-line errors."""
    run(main)


if __name__ == "__main__":
    console()
