"""The download path against a real HTTP server on 127.0.0.1 (resume, checksum failure, offline message)."""
import hashlib
import http.server
import threading
import zipfile

import pytest

from colorizerutils import data
from colorizerutils.download import DownloadError, download

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class _Handler(http.server.BaseHTTPRequestHandler):
    ranges_seen: list = []
    files: dict = {}

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        rng = self.headers.get("Range")
        self.ranges_seen.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *a):
        pass


@pytest.fixture
def server():
    _Handler.ranges_seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    httpd.shutdown()


def test_resumes_a_partial_download_and_verifies(server, tmp_path):
    url, h = server
    h.files = {"/f.bin": PAYLOAD}
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:300_000])
    download(f"{url}/f.bin", dest, sha256=hashlib.sha256(PAYLOAD).hexdigest(), progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert h.ranges_seen == ["bytes=300000-"]
    assert not (tmp_path / "f.bin.part").exists()


def test_checksum_failure_leaves_nothing(server, tmp_path):
    url, h = server
    h.files = {"/f.bin": PAYLOAD}
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        download(f"{url}/f.bin", tmp_path / "f.bin", sha256="0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_offline_fails_fast_with_what_to_do(tmp_path):
    with pytest.raises(DownloadError, match=r"(?s)could not download.*place it at.*f\.bin"):
        download("http://127.0.0.1:9/f.bin", tmp_path / "f.bin", timeout=2, progress=False)


def test_davis_from_loopback_mirror(server, tmp_path):
    url, h = server
    zpath = tmp_path / "src.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        from PIL import Image
        import io
        import numpy as np

        for k in range(3):
            buf = io.BytesIO()
            Image.fromarray((np.random.default_rng(k).random((24, 32, 3)) * 255).astype("uint8")).save(buf, "JPEG")
            z.writestr(f"DAVIS/JPEGImages/480p/bear/{k:05d}.jpg", buf.getvalue())
    body = zpath.read_bytes()
    h.files = {"/DAVIS-2017-trainval-480p.zip": body}
    root = tmp_path / "data"
    out = data.prepare_davis(root, url=f"{url}/DAVIS-2017-trainval-480p.zip",
                             sha256=hashlib.sha256(body).hexdigest())
    clips = data.list_clips(out)
    assert list(clips) == ["bear"] and len(list(data.iter_frames(clips["bear"]))) == 3
