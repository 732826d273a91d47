"""The machine's ceilings for scripts/bench, measured in the same run as the registries, so
each figure can be read against what this machine can do at all:

  stack      req/s of a minimal ASGI app (one fixed 200 answer) under the same gunicorn +
             uvicorn worker as ours, same workers and connections: the most any
             endpoint of a Python registry on this stack can reach
  disk       MB/s of ``dd if=/dev/zero bs=4M conv=fsync`` of --big-size into the scratch
             directory: a durable write with nothing else to do
  loopback   MB/s of a curl GET of a --big-size file (in the page cache) from a server that
             answers with sendfile(2): a download with nothing else to do
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

BARE_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})
"""


def disk_write_mb_s(directory: Path, size: int) -> float:
    """dd with fsync at the end, timed around the whole command."""
    target = directory / "ceiling-dd.bin"
    count = max(1, size // (4 << 20))
    os.sync()
    started = time.perf_counter()
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={target}", "bs=4M", f"count={count}", "conv=fsync"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    target.unlink(missing_ok=True)
    return count * (4 << 20) / elapsed / 1e6


class _SendfileHandler(http.server.BaseHTTPRequestHandler):
    path_to_send: Path

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        with open(self.path_to_send, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.flush()
            self.connection.sendfile(f)

    def log_message(self, *args) -> None:
        pass


def loopback_copy_mb_s(directory: Path, size: int) -> float:
    """curl of a cached file over loopback from a sendfile server (best of two)."""
    source = directory / "ceiling-loopback.bin"
    with open(source, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(max(1, size >> 20)):
            f.write(block)
    handler = type("Handler", (_SendfileHandler,), {"path_to_send": source})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/blob"
        best = 0.0
        for _ in range(2):
            out = subprocess.run(
                ["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", url],
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            ).stdout.split()
            best = max(best, int(out[0]) / float(out[1]) / 1e6)
        return best
    finally:
        server.shutdown()
        server.server_close()
        source.unlink(missing_ok=True)


def bare_stack_rps(workdir: Path, port: int, workers: int, load, args) -> float:
    """wrk against the minimal ASGI app under gunicorn + our uvicorn worker."""
    (workdir / "bare_asgi.py").write_text(BARE_APP)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(workdir), str(Path(__file__).resolve().parent.parent)]),
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    proc = subprocess.Popen(
        [
            gunicorn,
            "-k",
            "harbor_api.worker.HarborWorker",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bare_asgi:app",
        ],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/v2/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the bare ASGI app did not start") from None
                time.sleep(0.2)
        return float(load("GET", url, {}, args, workdir)["rps"])
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(15)


def describe(ceilings: dict[str, float]) -> str:
    names = {
        "stack": ("bare stack (minimal ASGI app, same server and workers)", "req/s"),
        "disk": ("disk write, dd bs=4M conv=fsync", "MB/s"),
        "loopback": ("loopback copy, curl from a sendfile server", "MB/s"),
    }
    return "\n".join(f"  {names[k][0]}: {v:.0f} {names[k][1]}" for k, v in ceilings.items())
