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

What a client may hold (Worker): a request's headers and body must arrive within
--request-timeout seconds (30) of its first byte, with no pause over PAUSE seconds (5)
within it, else it is answered 408 and the connection closed (the keep-alive wait for a
next request, and for the first one, is 15 s). A client address may hold
--connections-per-address connections (64) in each server process; the next is answered
429 at once and closed. gunicorn's warnings about bad requests, and refused connections,
are logged once a minute with a count, not one line each (a flood would fill the log).
Behind a proxy, every connection comes from its address: raise --connections-per-address
to what the proxy may open (docs/serving.md).
"""

import collections
import errno
import ipaddress
import json
import logging
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import gevent
import werkzeug.exceptions
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker

from digits import DigitsError
from digits.cli import ArgumentParser, positive_float, positive_int, run
from digits.cli.predict import add_reader_arguments
from digits.read.onnx_model import OnnxModel
from digits.read.reading import open_reader
from digits.read.web import create_app

CONNECTIONS = 10_000  # open connections per server process, idle and half-sent ones included
REQUEST_SECONDS = 30  # a request's headers and body, from its first byte: an 8 MB photo at 2 Mbit/s
PAUSE = 5  # seconds a request may go without a byte
PER_ADDRESS = 64  # open connections from one client address, per server process
KEEPALIVE = 15  # seconds a connection has to send its request's headers, or its next request
# Threads per server process that read pictures. gevent's default (10) starved its own loop
# of the GIL under load: it then accepted connections too slowly for a flood of them to be
# refused (GET / went unanswered for 10 s), and held twice the memory; one thread left
# drawings waiting behind each other (x0.68 of the quiet throughput under a flood).
READING_THREADS = 2


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
    parser.add_argument(
        "--request-timeout",
        type=positive_float,
        default=REQUEST_SECONDS,
        metavar="SECONDS",
        help=f"a request's headers and body must arrive within this, and with no pause over "
        f"{PAUSE} s, else 408 (default: %(default)s)",
    )
    parser.add_argument(
        "--connections-per-address",
        type=positive_int,
        default=PER_ADDRESS,
        metavar="N",
        help="open connections one client address may hold in each server process; more are "
        "answered 429 (default: %(default)s)",
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
        threads.maxsize = READING_THREADS
        return create_app(open_reader(*settings), in_thread=threads.apply, cors=args.cors)

    Worker.limits = Limits(args.request_timeout, min(PAUSE, args.request_timeout), args.connections_per_address)
    server = Server(
        make_app,
        bind=[f"fd://{listener.fileno()}"],
        workers=workers,
        worker_class=Worker,
        worker_connections=CONNECTIONS,
        keepalive=KEEPALIVE,
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


class Limits(collections.namedtuple("Limits", "seconds pause per_address")):
    """What one request and one client address may take (Worker)."""


class Worker(GeventWorker):
    """gunicorn's gevent worker, with its own error answers in JSON, as the app's are, a
    deadline on every request (Deadlines) and a cap on the connections of each address."""

    limits = Limits(REQUEST_SECONDS, PAUSE, PER_ADDRESS)

    def init_process(self):
        util.write_error = write_json_error
        self.open_from = collections.Counter()
        self.log.error_log.addFilter(OncePerMinute("Invalid request from", "Refused"))
        super().init_process()

    def handle(self, listener, client, addr):
        address = addr[0] if isinstance(addr, tuple) else ""
        if self.open_from[address] >= self.limits.per_address:
            self.log.warning(f"Refused a connection from {address}: {self.limits.per_address} open already")
            return refuse(client, self.limits.per_address)
        self.open_from[address] += 1
        try:
            super().handle(listener, Deadlines(client, self.limits.seconds, self.limits.pause), addr)
        finally:
            self.open_from[address] -= 1
            if not self.open_from[address]:
                del self.open_from[address]

    def handle_request(self, listener_name, req, sock, addr):
        sock.request = req
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            sock.between_requests()

    def handle_error(self, req, client, addr, exc):
        if isinstance(exc, RequestTimeout):  # headers that did not arrive in time
            write_json_error(client, 408, "Request Timeout", exc.description)
        else:
            super().handle_error(req, client, addr, exc)


class RequestTimeout(werkzeug.exceptions.RequestTimeout):
    """A request that did not arrive in time: the app answers it 408 as any HTTP error."""


class Deadlines:
    """A client's socket as gunicorn reads its requests from it: the first byte of a request
    starts its clock; it must then come whole within `seconds`, never pausing over `pause`,
    else RequestTimeout, and the connection reads as closed. Waiting for a request's first
    byte is gunicorn's keep-alive timeout's. Sending gets `seconds` too: a client that does
    not read its answers is let go."""

    def __init__(self, sock, seconds, pause):
        self._sock, self._seconds, self._pause = sock, seconds, pause
        self._ends, self._expired = None, False  # None: between requests
        self.request = None  # gunicorn's request whose body is being read, if any

    def recv(self, size):
        if self._expired:
            return b""
        if self._ends is None:
            data = self._sock.recv(size)
            self._ends = time.monotonic() + self._seconds
            return data
        left = self._ends - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            self._sock.settimeout(min(self._pause, left))
            return self._sock.recv(size)
        except TimeoutError:
            self._expired = True
            if self.request is not None:  # its answer says "Connection: close"
                self.request.must_close = True
            raise RequestTimeout(
                f"the request did not arrive within {self._seconds:g} s, or paused for over "
                f"{self._pause:g} s"
            ) from None
        finally:
            self._sock.settimeout(None)

    def sendall(self, data):
        self._sock.settimeout(self._seconds)
        try:
            return self._sock.sendall(data)
        except TimeoutError:
            raise ConnectionResetError(errno.ECONNRESET, "the client does not read its answers") from None
        finally:
            self._sock.settimeout(None)

    def between_requests(self):
        self._ends, self.request = None, None

    def close(self):
        if self._expired:  # the client may still be sending: let it read its 408 first
            util.close_graceful(self._sock, timeout=1.0)
        else:
            self._sock.close()

    def __getattr__(self, name):  # everything else is the socket's own
        return getattr(self._sock, name)


def refuse(client, per_address):
    """Answer a connection over its address's cap 429 at once, and close it."""
    message = f"this address has {per_address} connections open to this server; close some, or try again later"
    try:
        write_json_error(client, 429, "Too Many Requests", message)
    except OSError:
        pass
    # what the client sent is read for up to a second before the socket is closed, so that
    # closing does not reset the connection before the client has read the answer
    util.close_graceful(client, timeout=1.0)


class OncePerMinute(logging.Filter):
    """Lets the first of the messages starting with each of `prefixes` through, then one a
    minute, saying how many like it were held back."""

    def __init__(self, *prefixes):
        super().__init__()
        self.prefixes = prefixes
        self.next_at = dict.fromkeys(prefixes, 0.0)
        self.held = dict.fromkeys(prefixes, 0)

    def filter(self, record):
        message = record.getMessage()
        prefix = next((p for p in self.prefixes if message.startswith(p)), None)
        if prefix is None:
            return True
        now = time.monotonic()
        if now < self.next_at[prefix]:
            self.held[prefix] += 1
            return False
        if self.held[prefix]:
            record.msg, record.args = f"{message} (and {self.held[prefix]} more like it in the last minute)", ()
        self.next_at[prefix], self.held[prefix] = now + 60, 0
        return True


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
