"""The drawing page's web application (Flask): the page, and POST /predict.

create_app(model) returns the app; serve.py runs it on waitress, and the tests drive it
with Flask's test client and with a real browser. /predict takes a PNG, JPEG or WebP
image (a drawing from the page, or a photo or file chosen there), reads every digit in it
(digits.reading) and answers in JSON;
every error is a JSON object with an `error` message and a 4xx or 503 status.

A drawing costs a few milliseconds, but a small file can decode to a huge image (a
40-megapixel PNG of one colour is a few kilobytes). So the server refuses images over
MAX_PIXELS unread (413), and takes those over LARGE_PIXELS one at a time across all its
processes, resting after each twice as long as it worked on it: they never get more than
a third of one core, however many arrive. One that cannot get its turn within LARGE_WAIT seconds
is answered 503.
"""

import io
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from pathlib import Path

from flask import Flask, jsonify, request, send_from_directory
from PIL import Image
from werkzeug.exceptions import HTTPException

from digits import DigitsError
from digits.images import load_picture

MAX_BODY = 8 * 1024 * 1024  # room for a phone's photo; a drawing is a few kilobytes
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
MAX_PIXELS = 16_000_000  # a phone's photo is 12 megapixels
LARGE_PIXELS = 2_000_000  # more than a drawing or a downsized photo needs
LARGE_WAIT = 2.0  # seconds a large image may wait for its turn
LARGE_REST = 2.0  # after a large image, rest this many times as long as it took
STATIC = Path(__file__).resolve().parent / "static"


def create_app(reader, large_image_turn=None):
    """The app, reading pictures with `reader` (digits.reading.Reader) as predict.py does.
    `large_image_turn` is the semaphore that large images take turns on; serve() shares
    one between its processes."""
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    large_image_turn = large_image_turn or threading.BoundedSemaphore(1)

    @app.get("/")
    def page():
        return send_from_directory(STATIC, "draw.html")

    @app.post("/predict")
    def predict():
        if request.mimetype not in IMAGE_TYPES:
            return error(
                415, "send a PNG, JPEG or WebP image, with Content-Type image/png, image/jpeg "
                "or image/webp"
            )
        body = request.get_data(cache=False)
        if not body:
            return error(400, "the request has no image in it")
        pixels = declared_pixels(body)
        if pixels > MAX_PIXELS:
            return error(
                413, f"the image has {pixels / 1e6:.0f} megapixels, over this server's "
                f"{MAX_PIXELS // 1_000_000} megapixel limit; send a smaller one"
            )
        large = pixels > LARGE_PIXELS
        if large and not large_image_turn.acquire(timeout=LARGE_WAIT):
            return error(503, "busy with other large images; send a smaller one or try again")
        started = time.perf_counter()
        try:
            picture, scale = load_picture(io.BytesIO(body), name="image")
            result = reader.read(picture, "image", scale).to_json()
        except DigitsError as err:
            return error(400, str(err))
        finally:
            if large:
                time.sleep(LARGE_REST * (time.perf_counter() - started))
                large_image_turn.release()
        return jsonify(result)

    @app.errorhandler(HTTPException)
    def http_error(err):
        # Every error, too-large bodies and unknown paths included, is answered in JSON.
        return error(err.code, err.description)

    return app


def declared_pixels(body):
    """Width x height as the image's header states it (nothing decoded), 0 if unreadable:
    load_image then says what is wrong with it."""
    try:
        with Image.open(io.BytesIO(body)) as image:
            return image.width * image.height
    except Exception:  # any unreadable header; load_image reports it properly
        return 0


def error(status, message):
    response = jsonify(error=message)
    response.status_code = status
    return response


def serve(make_app, host, port, workers=1, threads=8, ready=print):
    """Answer on host:port with `workers` processes that share one listening socket, each
    running make_app(large_image_turn) on waitress with `threads` threads, until Ctrl-C
    or SIGTERM.

    Several processes, because a request is mostly Python (reading and normalising the
    image), which one process runs on one core at a time. Waitress reads each request
    whole before a thread takes it, so a client that sends half a request holds a
    connection, never a thread. The processes fork before make_app() loads the model.
    """
    from waitress import create_server

    # waitress warns each time requests queue for a thread: under load, that is every second
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    large_image_turn = multiprocessing.BoundedSemaphore(1)  # one for all the processes
    children = []
    for _ in range(workers - 1 if hasattr(os, "fork") else 0):
        pid = os.fork()
        if pid == 0:
            children = None
            break
        children.append(pid)
    server = create_server(
        make_app(large_image_turn),
        sockets=[listener],
        threads=threads,
        channel_timeout=30,  # a client that sends nothing for this long is dropped
        connection_limit=1000,
        # Bodies a little over the app's own limit still reach it and get its JSON 413.
        max_request_body_size=2 * MAX_BODY,
    )
    if children is None:  # a worker: the parent stops it
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        server.run()
        os._exit(0)
    signal.signal(signal.SIGTERM, _stop)
    shown = f"[{host}]" if ":" in host else host
    ready(f"http://{shown}:{listener.getsockname()[1]}/")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        for pid in children:
            os.waitpid(pid, 0)


def _stop(signum, frame):
    raise KeyboardInterrupt
