"""Fixtures: a temporary /opt/ml tree, `rcf train`, and `rcf serve` on a free 127.0.0.1 port.

The binary comes from $RCF_BIN (run_sdk_tests.sh builds it). Every wait is bounded.
"""

import json
import os
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

RCF_BIN = os.environ.get("RCF_BIN", "")


def _require_bin():
    if not RCF_BIN or not Path(RCF_BIN).is_file():
        pytest.fail(f"RCF_BIN must point at the built rcf binary (got {RCF_BIN!r})")
    return RCF_BIN


class MlTree:
    def __init__(self, root: Path):
        self.root = root
        for sub in ["input/config", "input/data", "model", "output"]:
            (root / sub).mkdir(parents=True, exist_ok=True)

    def config(self, name, obj):
        (self.root / "input/config" / name).write_text(json.dumps(obj))

    def channel_file(self, channel, name):
        d = self.root / "input/data" / channel
        d.mkdir(parents=True, exist_ok=True)
        return d / name

    def train(self):
        return subprocess.run(
            [_require_bin(), "train"],
            env={**os.environ, "RCF_SAGEMAKER_ROOT": str(self.root)},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def failure(self):
        p = self.root / "output/failure"
        return p.read_text() if p.exists() else None


class Server:
    def __init__(self, model_dir: Path):
        self.proc = subprocess.Popen(
            [_require_bin(), "serve", "--host", "127.0.0.1", "--port", "0", "--model-dir", str(model_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in self.proc.stderr], daemon=True).start()
        deadline = time.monotonic() + 30
        self.port = None
        while self.port is None:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise RuntimeError("rcf serve did not report its port within 30 s")
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            if "listening on " in line:
                self.port = int(line.rsplit(":", 1)[1])
        while time.monotonic() < deadline:
            try:
                if self.get("/ping")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("/ping did not answer 200 within 30 s")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url(path), timeout=10) as r:
                return r.status, r.headers.get("Content-Type"), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read()

    def invoke(self, body, content_type: str, accept: str | None = None):
        if isinstance(body, str):  # the SDK's text serializers return str; boto3 sends it UTF-8 encoded
            body = body.encode("utf-8")
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        req = urllib.request.Request(self.url("/invocations"), data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.headers.get("Content-Type"), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.fixture
def ml(tmp_path):
    return MlTree(tmp_path / "opt_ml")


@pytest.fixture
def serve():
    servers = []

    def start(model_dir):
        s = Server(model_dir)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()
