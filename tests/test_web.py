"""The drawing page: its HTTP endpoint, and the page itself in a real headless Chromium.

The browser tests need Debian's chromium (`apt-get install chromium`) and the Python
package playwright; without chromium they are skipped, except under CI, where they fail.

    python tests/test_web.py figures    # writes 174 in the page; screenshots at two sizes
"""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digits import DEFAULT_DETECTOR, DEFAULT_MODEL, DEFAULT_READER  # noqa: E402
from digits.read.reading import Reader, open_reader  # noqa: E402
from digits.read.web import MAX_BODY, create_app  # noqa: E402
from conftest import needs_system_package  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEVEN = [[(60, 60), (220, 60), (130, 240)]]  # canvas coordinates of the pen strokes
NUMBER_174 = [
    [(40, 40), (40, 240)],
    [(120, 60), (280, 60), (190, 240)],
    [(400, 240), (400, 40), (330, 170), (470, 170)],
]
SCRIBBLE = [[(40, 200), (120, 40), (90, 250), (230, 60), (60, 120), (250, 230), (30, 60)]]
ONE = [[(140, 40), (140, 240)]]
FOUR = [[(190, 240), (190, 40), (60, 170), (230, 170)]]


def without_detector(reader):
    return Reader(reader.model, reader.lines)


@pytest.fixture(scope="module")
def app(shipped_reader):
    return create_app(shipped_reader)


def png_of(strokes, size=280, width=18, height=None):
    image = Image.new("L", (size, height or size), 255)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill=0, width=width, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- endpoint


def test_page_is_served(app):
    response = app.test_client().get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert b'<canvas id="pad"' in response.data


@pytest.mark.parametrize("strokes, digit", [(SEVEN, 7), (ONE, 1), (FOUR, 4)])
def test_a_drawn_digit_is_recognised(app, strokes, digit):
    response = app.test_client().post("/predict", data=png_of(strokes), content_type="image/png")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["digit"] == digit
    assert len(answer["probabilities"]) == 10 and abs(sum(answer["probabilities"]) - 1) < 1e-3
    seen = np.array(answer["input"])
    assert seen.shape == (28, 28) and seen.min() >= 0 and seen.max() <= 1


ERRORS = {
    "wrong content type": ("post", "/predict", b"hello", "text/plain", 415, "image/png"),
    "body too large": ("post", "/predict", b"\x89PNG" + b"0" * MAX_BODY, "image/png", 413, "8 MB limit"),
    "malformed PNG": ("post", "/predict", b"\x89PNG\r\n\x1a\nbroken", "image/png", 400, "image"),
    "empty body": ("post", "/predict", b"", "image/png", 400, "no image"),
    "wrong method": ("get", "/predict", None, None, 405, ""),
    "unknown path": ("get", "/nothing-here", None, None, 404, ""),
}


def test_a_blank_drawing_and_a_scribble_are_not_digits(app):
    client = app.test_client()
    blank = client.post("/predict", data=png_of([]), content_type="image/png").get_json()
    assert blank["number"] is None and "no ink" in blank["reason"]
    answer = client.post("/predict", data=png_of(SCRIBBLE), content_type="image/png").get_json()
    assert answer["number"] is None
    assert any(d["digit"] is None for d in answer["digits"])


def test_a_number_written_across_the_canvas_is_read_with_boxes(app):
    answer = (
        app.test_client()
        .post("/predict", data=png_of(NUMBER_174, size=560, height=280), content_type="image/png")
        .get_json()
    )
    assert answer["number"] == "174"
    lefts = [d["box"]["left"] for d in answer["digits"]]
    assert lefts == sorted(lefts) and lefts[0] < 60 < lefts[1] < 300 < lefts[2]
    assert all(np.array(d["input"]).shape == (28, 28) for d in answer["digits"])


def test_one_digit_many_and_none_are_answered_with_the_same_fields(app):
    """A client reads the same fields whatever the picture holds (they are None where they
    do not apply: `digit` and `confidence` are a one-digit picture's)."""
    client = app.test_client()
    replies = [
        client.post("/predict", data=png, content_type="image/png").get_json()
        for png in (png_of(SEVEN), png_of(NUMBER_174, size=560, height=280), png_of([]))
    ]
    assert [r["number"] for r in replies] == ["7", "174", None]
    assert set(replies[0]) == set(replies[1]) == set(replies[2])
    assert replies[0]["confidence"] > 0.5 and replies[1]["confidence"] is None
    assert replies[0]["reason"] is None and "no ink" in replies[2]["reason"]


@pytest.mark.parametrize("case", ERRORS)
def test_bad_requests_get_a_json_4xx(app, case):
    method, path, body, content_type, status, fragment = ERRORS[case]
    client = app.test_client()
    response = getattr(client, method)(path, data=body, content_type=content_type)
    assert response.status_code == status
    assert response.is_json and fragment in response.get_json()["error"]
    # ...and the server keeps serving
    good = client.post("/predict", data=png_of(SEVEN), content_type="image/png")
    assert good.status_code == 200


def image_file(strokes, format, size=280):
    """A drawn digit as a photo would come: RGB, JPEG or WebP."""
    image = Image.open(io.BytesIO(png_of(strokes, size=size))).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format)
    return buffer.getvalue()


@pytest.mark.parametrize("format, content_type", [("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_photos_as_jpeg_and_webp_are_read_too(app, format, content_type):
    response = app.test_client().post(
        "/predict", data=image_file(FOUR, format, size=1200), content_type=content_type
    )
    assert response.status_code == 200 and response.get_json()["digit"] == 4


def test_a_gif_and_a_file_sent_in_a_form_are_read(app):
    gif = image_file(SEVEN, "GIF")
    response = app.test_client().post("/predict", data=gif, content_type="image/gif")
    assert response.status_code == 200 and response.get_json()["digit"] == 7
    # what `curl -F image=@photo.jpg` sends: multipart/form-data, the file in a field
    for field in ("image", "file"):
        form = {field: (io.BytesIO(image_file(FOUR, "JPEG")), "photo.jpg", "image/jpeg")}
        response = app.test_client().post("/predict", data=form, content_type="multipart/form-data")
        assert response.status_code == 200 and response.get_json()["digit"] == 4, field
    empty = app.test_client().post("/predict", data={"note": "hi"}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "no image" in empty.get_json()["error"]


def test_an_image_sent_as_octet_stream_is_read_by_its_own_header(app):
    response = app.test_client().post("/predict", data=png_of(SEVEN), content_type="application/octet-stream")
    assert response.status_code == 200 and response.get_json()["digit"] == 7


def test_health_and_every_reply_name_the_models_by_file_and_checksum(app):
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"
    models = health.get_json()["models"]
    assert sorted(models) == ["detector", "digits", "reader"]
    assert models["digits"]["file"] == "accurate.keras"
    assert all(len(m["weights_sha256"]) == 64 for m in models.values())
    answer = client.post("/predict", data=png_of(SEVEN), content_type="image/png").get_json()
    assert answer["models"] == models


def test_the_api_describes_each_endpoint_field_and_status(app):
    api = app.test_client().get("/api").get_json()
    assert api["openapi"].startswith("3.") and sorted(api["paths"]) == ["/api", "/health", "/predict"]
    post = api["paths"]["/predict"]["post"]
    assert {"200", "400", "408", "413", "415", "429", "503"} <= set(post["responses"])
    assert "application/octet-stream" in post["requestBody"]["content"]
    fields = api["components"]["schemas"]["Reading"]["properties"]
    answer = app.test_client().post("/predict", data=png_of(NUMBER_174, size=500, height=280),
                                    content_type="image/png").get_json()
    assert set(answer) == set(fields) == set(api["components"]["schemas"]["Reading"]["required"])


def test_cors_is_off_unless_an_origin_is_given(shipped_reader):
    plain = create_app(shipped_reader).test_client().get("/health")
    assert "Access-Control-Allow-Origin" not in plain.headers
    shared = create_app(shipped_reader, cors="https://example.org").test_client()
    assert shared.get("/health").headers["Access-Control-Allow-Origin"] == "https://example.org"
    preflight = shared.options("/predict", headers={"Origin": "https://example.org",
                                                    "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200 and "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_an_image_too_large_to_decode_is_refused_unread(app):
    bomb = io.BytesIO()
    Image.new("1", (6000, 4000)).save(bomb, "PNG")  # 24 megapixels in a few kilobytes
    response = app.test_client().post("/predict", data=bomb.getvalue(), content_type="image/png")
    assert response.status_code == 413 and "megapixel limit" in response.get_json()["error"]


def test_large_images_wait_their_turn_or_get_503(monkeypatch, shipped_reader):
    import digits.read.web

    monkeypatch.setattr(digits.read.web, "LARGE_WAIT", 0.1)
    turn = threading.BoundedSemaphore(1)
    app = create_app(without_detector(shipped_reader), large_image_turn=turn)
    large = png_of(SEVEN, size=1600)  # 2.56 megapixels
    turn.acquire()  # another large image is being read
    busy = app.test_client().post("/predict", data=large, content_type="image/png")
    assert busy.status_code == 503 and "busy" in busy.get_json()["error"]
    small = app.test_client().post("/predict", data=png_of(SEVEN), content_type="image/png")
    assert small.status_code == 200, "small images do not wait for large ones"
    turn.release()
    answered = app.test_client().post("/predict", data=large, content_type="image/png")
    assert answered.status_code == 200 and answered.get_json()["digit"] == 7


# --------------------------------------------------------------------- the real server


@contextlib.contextmanager
def serving(app):
    """Serve `app` on a free local port in a thread (Werkzeug's threaded server: the page's
    tests need the app in this process), for the length of a `with`: its address."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(app):
    with serving(app) as address:
        yield address


class SlowModel:
    """A shipped model answering `seconds` late (a slow machine or a busy server): every
    time, or the first time only."""

    def __init__(self, model, seconds=1, first_only=False):
        self.model, self.input_shape = model, model.input_shape
        self.seconds, self.first_only, self.calls = seconds, first_only, 0

    def __call__(self, x, training=False):
        self.calls += 1
        if self.calls == 1 or not self.first_only:
            time.sleep(self.seconds)
        return self.model(x, training=training)


@pytest.mark.slow
def test_live_server_answers_errors_and_keeps_serving(server):
    request = urllib.request.Request(
        f"{server}/predict", data=b"x" * (MAX_BODY + 1), headers={"Content-Type": "image/png"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413 and "error" in json.loads(refused.value.read())
    request = urllib.request.Request(
        f"{server}/predict", data=png_of(SEVEN), headers={"Content-Type": "image/png"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["digit"] == 7


@contextlib.contextmanager
def serve_py(*args, stderr=subprocess.DEVNULL):
    """`python serve.py --port 0 ...` running, for the length of a `with`: (its address, the
    process)."""
    server = subprocess.Popen(
        [sys.executable, "serve.py", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )
    try:
        banner = server.stdout.readline()
        assert "serving" in banner, banner
        yield banner.split(" on ")[1].split()[0].rstrip("/"), server
    finally:
        server.terminate()
        server.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, 9)


def raw_answer(address, raw):
    """Send `raw` bytes as a request; (status, the body as JSON, or None if it is not)."""
    import socket

    host, port = address.removeprefix("http://").split(":")
    reply = b""
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        # the server may answer, and close, before it has read all of an oversized request
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(raw)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    try:
        return int(head.split()[1]), json.loads(body)
    except ValueError:
        return int(head.split()[1]), None


@pytest.mark.slow
def test_serve_py_on_any_port_answers_every_error_in_json_and_replaces_a_killed_process():
    with serve_py("--workers", "2") as (address, server):
        page = urllib.request.urlopen(address, timeout=30)
        assert page.status == 200
        # the server's own errors, not only the app's, are JSON objects with an `error`
        for raw, status in [
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", 431),
            (b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
        ]:
            got, body = raw_answer(address, raw)
            assert got == status and body and "error" in body, (raw[:40], got, body)
        # a server process killed with SIGKILL is replaced, and the page answers again
        children = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 2
        os.kill(int(children[0]), 9)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            now = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
            if len(now) == 2 and children[0] not in now:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the killed server process was not replaced within 5 s")
        request = urllib.request.Request(
            f"{address}/predict", data=png_of(SEVEN), headers={"Content-Type": "image/png"}
        )
        for _ in range(4):  # on both processes, whichever takes each connection
            with urllib.request.urlopen(request, timeout=30) as response:
                assert json.loads(response.read())["digit"] == 7
        # Ctrl-C stops it all, and says so once
        server.send_signal(2)
        assert server.wait(timeout=30) == 0
        assert server.stdout.read().count("stopped") == 1


@pytest.mark.slow
@pytest.mark.parametrize("flags, logged", [((), True), (("--no-access-log",), False)])
def test_serve_py_logs_a_line_per_request_unless_told_not_to(tmp_path, flags, logged):
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr, serve_py(*flags, stderr=stderr) as (address, _):
        with urllib.request.urlopen(f"{address}/health", timeout=30) as response:
            assert json.loads(response.read())["status"] == "ok"
        time.sleep(0.5)
    assert ('"GET /health HTTP/1.1" 200' in log.read_text()) == logged, log.read_text()[-2000:]


BODILESS = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\n"


def connect(address, source="127.0.0.1"):
    import socket

    host, port = address.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30, source_address=(source, 0))


def answer_on(sock):
    """Read `sock` until the server closes it: (status, JSON body, seconds it took)."""
    start, reply = time.monotonic(), b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body), time.monotonic() - start


@contextlib.contextmanager
def bodiless(address, source, count):
    """`count` connections from `source`, each having sent BODILESS; closed at the end."""
    held = [connect(address, source) for _ in range(count)]
    try:
        for sock in held:
            sock.sendall(BODILESS)
        yield held
    finally:
        for sock in held:
            sock.close()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """serve.py in one process, with a 2 s request timeout and 3 connections an address."""
    log = tmp_path_factory.mktemp("guarded") / "stderr.txt"
    with open(log, "w") as stderr, serve_py(
        "--workers", "1", "--request-timeout", "2", "--connections-per-address", "3", stderr=stderr
    ) as (address, _):
        yield address, log


@pytest.mark.slow
def test_a_body_that_never_comes_or_trickles_is_answered_408_and_let_go(guarded):
    """Finding 1: headers that promise a body and then nothing, or a byte of it at a time,
    held a connection for ever."""
    address, _ = guarded
    with connect(address) as silent, connect(address) as trickling:
        silent.sendall(BODILESS)
        trickling.sendall(BODILESS)
        for _ in range(8):  # a byte every 0.4 s: never 2 s apart, but not done in 2 s
            time.sleep(0.4)
            with contextlib.suppress(OSError):
                trickling.send(b"x")
        for sock in (silent, trickling):
            status, body, _ = answer_on(sock)
            assert status == 408 and "did not arrive within 2 s" in body["error"]
    with connect(address) as half:  # headers cut short are timed the same way
        half.sendall(b"GET / HTTP/1.1\r\nHo")
        status, body, seconds = answer_on(half)
        assert status == 408 and "error" in body and seconds < 5
    with urllib.request.urlopen(f"{address}/health", timeout=30) as response:
        assert response.status == 200


@pytest.mark.slow
def test_one_address_cannot_take_every_connection(guarded):
    """Finding 1: one address's connections beyond its cap are refused at once (429), and
    other addresses are still served."""
    address, _ = guarded
    with bodiless(address, "127.0.0.2", 3):
        time.sleep(0.2)
        with connect(address, "127.0.0.2") as extra:
            extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            status, body, seconds = answer_on(extra)
        assert status == 429 and "3 connections open" in body["error"] and seconds < 1.5
        with urllib.request.urlopen(f"{address}/health", timeout=30) as response:
            assert response.status == 200  # from 127.0.0.1


@pytest.mark.slow
def test_a_flood_of_bad_requests_is_logged_once_a_minute_not_once_each(guarded):
    """Finding 5: gunicorn warned once per invalid request."""
    address, log = guarded
    for _ in range(20):
        with connect(address) as sock:
            sock.sendall(b"GARBAGE\r\n\r\n")
            assert answer_on(sock)[0] == 400
    time.sleep(0.5)
    assert log.read_text().count("Invalid request from") == 1, log.read_text()[-2000:]


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    """serve.py behind nginx run with docs/nginx.conf (its two ports changed to free ones):
    nginx's address."""
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed: apt-get install nginx-light")
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    with serve_py("--workers", "1", "--connections-per-address", "1024") as (address, _):
        config = (ROOT / "docs" / "nginx.conf").read_text()
        assert "127.0.0.1:8000" in config and "listen 127.0.0.1:8080" in config
        config = config.replace("127.0.0.1:8000", address.removeprefix("http://"))
        (folder / "nginx.conf").write_text(config.replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
        nginx = subprocess.Popen(
            ["nginx", "-p", str(folder), "-e", "stderr", "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with contextlib.suppress(OSError), connect(f"http://127.0.0.1:{port}"):
                    break
                assert nginx.poll() is None and time.monotonic() < deadline, nginx.stderr.read()
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            nginx.terminate()
            nginx.wait(timeout=30)


@pytest.mark.slow
def test_behind_nginx_with_the_documented_config_a_drawing_is_read(behind_nginx):
    request = urllib.request.Request(f"{behind_nginx}/predict", data=png_of(SEVEN), headers={"Content-Type": "image/png"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["digit"] == 7


@pytest.mark.slow
def test_behind_nginx_one_address_is_capped_and_a_stalled_body_let_go(behind_nginx):
    with bodiless(behind_nginx, "127.0.0.2", 64) as held:
        time.sleep(0.5)
        with connect(behind_nginx, "127.0.0.2") as extra:
            extra.sendall(BODILESS)
            status, body, _ = answer_on(extra)
        assert status == 429 and "64 connections open" in body["error"]
        with urllib.request.urlopen(f"{behind_nginx}/health", timeout=30) as response:
            assert response.status == 200  # another address
        start = time.monotonic()
        held[0].settimeout(30)
        with contextlib.suppress(ConnectionResetError):
            while held[0].recv(65536):
                pass
        assert time.monotonic() - start < 10, "nginx lets a body pause 5 s at most"


def test_serve_py_knows_which_addresses_stay_on_this_machine():
    from digits.cli import serve

    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert serve.is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        assert not serve.is_loopback(host), host


def test_serve_py_refuses_a_busy_port_in_one_line():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "serve.py", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr


# ------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        needs_system_package("Debian's chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def draw(page, strokes):
    """Draw with the mouse, as a person would: press, move in small steps, release."""
    box = page.locator("#pad").bounding_box()
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=15)
        page.mouse.up()


def read_prediction(page, previous=None):
    """The digit shown once the page has the answer to the whole drawing: answers to the
    drawing half done (a 4's first stroke reads 1) come first while it is drawn."""
    selector = (
        "#prediction[data-digit]"
        if previous is None
        else f"#prediction:not([data-digit='{previous}'])"
    )
    page.wait_for_selector(selector, timeout=15000)
    page.wait_for_selector("#pad:not([data-pending])", timeout=15000)
    page.wait_for_function("document.querySelector('#prediction').dataset.digit !== undefined")
    return int(page.get_attribute("#prediction", "data-digit"))


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 900, "height": 620})
    page.goto(server)
    yield page
    page.close()


@pytest.mark.slow
def test_drawing_with_the_mouse_shows_the_digit(page):
    draw(page, SEVEN)
    assert read_prediction(page) == 7
    assert "top" in page.get_attribute("#bar-7", "class")
    page.click("#clear")
    assert page.get_attribute("#prediction", "data-digit") is None
    draw(page, ONE)
    assert read_prediction(page) == 1


@pytest.mark.slow
def test_an_answer_that_arrives_after_clear_is_dropped(browser, shipped_reader):
    reader = shipped_reader
    slow = create_app(Reader(reader.model, SlowModel(reader.lines)))
    with serving(slow) as address:
        page = browser.new_page(viewport={"width": 900, "height": 620})
        page.goto(address)
        with page.expect_response("**/predict") as answered:
            draw(page, SEVEN)  # the strokes ask for a prediction, due a second later
            page.click("#clear")
        assert answered.value.ok  # the answer came, for a drawing no longer there
        page.wait_for_timeout(200)
        assert page.get_attribute("#prediction", "data-digit") is None
        assert page.text_content("#prediction") == "Draw something…"
        page.close()




def read_number(page):
    page.wait_for_selector("#prediction[data-number]", timeout=15000)
    page.wait_for_selector("#pad:not([data-pending])", timeout=15000)
    return page.get_attribute("#prediction", "data-number")


@pytest.mark.slow
def test_a_number_written_across_the_page_gets_a_box_per_digit(page):
    draw(page, NUMBER_174)
    page.wait_for_selector("#prediction[data-number='174']", timeout=15000)
    assert page.locator("#digits figure").count() == 3
    boxes = page.evaluate(
        "Array.from(document.getElementById('boxes').getContext('2d').getImageData(0,0,560,280).data)"
    )
    assert max(boxes[3::4]) > 0, "the boxes are drawn over the writing"


@pytest.mark.slow
def test_a_scribble_is_not_a_digit_on_the_page(page):
    draw(page, SCRIBBLE)
    assert read_number(page) == "none"
    assert "not a digit" in page.text_content("#prediction")


@pytest.mark.slow
def test_a_photo_chosen_on_the_page_is_read(page, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(image_file(SEVEN, "JPEG", size=900))
    page.set_input_files("#photo", str(photo))
    assert read_prediction(page) == 7


@pytest.mark.slow
def test_page_renders_canvas_bars_and_the_model_input(page, tmp_path):
    shot = tmp_path / "page.png"
    assert page.locator("#pad").is_visible()
    assert page.locator(".bar").count() == 10
    draw(page, FOUR)
    assert read_prediction(page) == 4
    page.wait_for_function("document.querySelector('#bar-4 .fill').style.width !== '0.0%'")
    page.screenshot(path=str(shot))
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (620, 900)
    # the winning bar is drawn in orange, and the 28x28 preview shows white ink on black
    assert np.any(np.all(pixels == (0xD0, 0x62, 0x2A), axis=-1))
    fill = float(page.evaluate("parseFloat(document.querySelector('#bar-4 .fill').style.width)"))
    assert fill > 50
    seen = page.evaluate(
        "Array.from(document.querySelector('#digits canvas').getContext('2d').getImageData(0,0,28,28).data)"
    )
    assert max(seen[0::4]) == 255, "the card shows the 28x28 image the model saw, white ink on black"


@pytest.mark.slow
def test_a_stale_answer_arriving_after_a_fresh_one_is_not_shown(browser, shipped_reader):
    reader = shipped_reader
    slow = create_app(Reader(reader.model, SlowModel(reader.lines, seconds=2, first_only=True)))
    with serving(slow) as address:
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.goto(address)
        asked, answered = [], []
        page.on("request", lambda request: asked.append(request))
        page.on("response", lambda response: answered.append(response.request))
        # a 4's first stroke (a 1) is sent while the pen pauses, and answered two seconds
        # late; the whole 4, sent when the pen lifts, is answered first
        box = page.locator("#pad").bounding_box()
        (x0, y0), *rest = FOUR[0]
        page.mouse.move(box["x"] + x0, box["y"] + y0)
        page.mouse.down()
        page.mouse.move(box["x"] + rest[0][0], box["y"] + rest[0][1], steps=10)
        page.wait_for_timeout(400)
        for x, y in rest[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=10)
        page.mouse.up()
        assert read_prediction(page) == 4
        page.wait_for_timeout(2500)  # the first answer is in by now
        asked = [request for request in asked if request.url.endswith("/predict")]
        assert len(asked) >= 2 and answered[-1] == asked[0], "the first stroke was answered last"
        assert page.get_attribute("#prediction", "data-digit") == "4", "and not shown"
        assert page.get_attribute("#pad", "data-pending") is None
        page.close()


def photo_of_a_number(tmp_path):
    """A photo of 174 on grey paper, larger than the pad and of another shape (1200x400)."""
    image = Image.open(io.BytesIO(png_of(NUMBER_174, size=560, height=280))).convert("RGB")
    image = image.resize((1200, 600)).crop((0, 100, 1200, 500))
    image = Image.eval(image, lambda v: int(60 + 0.7 * v))  # grey paper, dark grey ink
    path = tmp_path / "photo.jpg"
    image.save(path, "JPEG")
    return path


@pytest.mark.slow
def test_an_uploaded_photo_is_shown_with_its_boxes(page, tmp_path):
    page.set_input_files("#photo", str(photo_of_a_number(tmp_path)))
    assert read_number(page) == "174"
    assert page.get_attribute("#pad", "data-photo") == ""
    shown = np.array(page.evaluate(
        "Array.from(document.getElementById('pad').getContext('2d').getImageData(0,0,560,280).data)"
    )).reshape(280, 560, 4)[..., 0]
    # the photo fills the pad's width: 1200x400 scaled to 560x187, centred
    assert shown[:40].min() == 255 and shown[240:].min() == 255, "white above and below the photo"
    assert 50 < shown[100:180].min() < 140 and np.median(shown[100:180]) < 250, "the grey photo"
    box_pixels = np.array(page.evaluate(
        "Array.from(document.getElementById('boxes').getContext('2d').getImageData(0,0,560,280).data)"
    )).reshape(280, 560, 4)[..., 3]
    columns = np.flatnonzero(box_pixels.max(axis=0))
    assert columns.min() < 60 and columns.max() > 150, "a box on each digit, over the photo"
    assert page.locator("#digits figure").count() == 3


@pytest.mark.slow
def test_pointing_at_a_digit_shows_its_own_probabilities(page):
    draw(page, NUMBER_174)
    assert read_number(page) == "174"
    for i, digit in enumerate("174"):
        page.hover(f"#digits figure:nth-child({i + 1})")
        title = page.text_content("#bars-title")
        assert f"read as {digit}" in title and ("first", "second", "third")[i] in title
        assert "top" in page.get_attribute(f"#bar-{digit}", "class")
    # every percentage shown agrees: the box labels, the cards and the caption round alike
    cards = page.locator("#digits figcaption").all_text_contents()
    assert all("·" in card and "%" in card for card in cards)
    least = min(float(card.split("·")[1].strip(" %")) for card in cards)
    assert f"at least {least:.1f}% sure" in page.text_content("#caption")


def layout(page):
    """Where the page's parts are, in CSS pixels."""
    return page.evaluate(
        """() => {
        const box = id => { const r = document.getElementById(id).getBoundingClientRect();
                            return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
        return {pad: box('pad'), prediction: box('prediction'), bars: box('bars'),
                digits: box('digits'), width: document.documentElement.scrollWidth};
    }"""
    )


@pytest.mark.slow
@pytest.mark.parametrize("width, height", [(1000, 800), (390, 844)])
def test_the_layout_holds_on_a_laptop_and_a_phone(browser, server, width, height, tmp_path):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server)
    before = layout(page)
    draw(page, NUMBER_174 if width > 500 else [[(x * 0.6, y * 0.6) for x, y in s] for s in NUMBER_174])
    assert read_number(page) == "174"
    after = layout(page)
    page.screenshot(path=str(tmp_path / "page.png"))
    page.close()
    assert after["width"] <= width, "nothing runs off the side"
    assert after["prediction"] == before["prediction"], "the answer appears where it was announced"
    if width > 500:  # the answer beside the picture, and all of it on the screen
        assert after["prediction"]["left"] >= after["pad"]["right"]
        assert after["bars"]["bottom"] <= height
    else:  # the picture across the phone, the answer below it
        assert after["pad"]["right"] - after["pad"]["left"] <= width - 16
        assert after["prediction"]["top"] >= after["pad"]["bottom"]


SEPARATED = ROOT / "tests" / "number_images" / "107m1517-separators-328.png"


def labels_of(page):
    return json.loads(page.get_attribute("#boxes", "data-labels"))


@pytest.mark.slow
@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_box_labels_never_cover_each_other(browser, server, width, height, tmp_path):
    """A number of small, close digits (107-1517, uploaded): each label is placed above or
    below its box, or left out, never over another."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server)
    page.set_input_files("#photo", str(SEPARATED))
    assert read_number(page) == "107-1517"
    labels = labels_of(page)
    page.screenshot(path=str(tmp_path / "labels.png"))
    page.close()
    assert 1 <= len(labels) <= 7
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            apart = a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]
            assert apart, (a, b)


@pytest.mark.slow
def test_a_failed_upload_replaces_reading_in_the_headline(page, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(png_of(SEVEN)[:200])  # a truncated PNG
    page.set_input_files("#photo", str(broken))
    page.wait_for_selector("#prediction[data-number='error']", timeout=15000)
    assert "Reading" not in page.text_content("#prediction")
    assert "image" in page.text_content("#caption")


@pytest.mark.slow
def test_the_photo_button_is_reached_and_opened_by_keyboard(page):
    page.focus("#clear")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "photo"
    # Enter on the focused file input activates it (a click, which opens the chooser)
    page.evaluate("document.getElementById('photo').addEventListener('click', () => { window.chosen = true; })")
    page.keyboard.press("Enter")
    page.wait_for_function("window.chosen === true", timeout=5000)


def main(folder):
    """Start the app, write 174 in Chromium at a laptop's and a phone's size, and save a
    screenshot of each to `folder` (drawing-page.png, drawing-page-phone.png); then the same
    with a photo of 107-1517 sent (drawing-page-labels.png, drawing-page-labels-phone.png)."""
    from playwright.sync_api import sync_playwright

    app = create_app(open_reader(DEFAULT_MODEL, DEFAULT_READER, DEFAULT_DETECTOR, "keras"))
    with serving(app) as address, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
        )
        for name, (width, height), scale in [
            ("drawing-page.png", (1280, 800), 1.0),
            ("drawing-page-phone.png", (390, 844), 0.6),
        ]:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(address)
            draw(page, [[(x * scale, y * scale) for x, y in stroke] for stroke in NUMBER_174])
            read_number(page)
            page.hover("#digits figure:nth-child(2)")
            page.wait_for_timeout(300)
            out = Path(folder) / name
            page.screenshot(path=str(out))
            page.set_input_files("#photo", str(SEPARATED))
            page.wait_for_selector("#prediction[data-number='107-1517']", timeout=15000)
            page.wait_for_timeout(300)
            out = Path(folder) / name.replace("drawing-page", "drawing-page-labels")
            page.screenshot(path=str(out))
            page.close()
            print(f"wrote {out}")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "figures")
