"""Model download: the offline failure for real (connection refused on loopback), a checksum
mismatch and a good download from a local file server, and installing a zip fetched elsewhere."""

from __future__ import annotations

import functools
import hashlib
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.voice.voice_helpers import free_port
from voice.download import (
    EXIT_ARCHIVE,
    EXIT_CHECKSUM,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_USAGE,
    MODELS,
    main,
)

NAME = MODELS["de"].name


def make_zip(path: Path, entries: dict[str, bytes]) -> str:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_zip(path: Path) -> str:
    return make_zip(path, {f"{NAME}/am/final.mdl": b"acoustic model",
                           f"{NAME}/conf/model.conf": b"--beam=10\n",
                           f"{NAME}/README": b"small German model"})


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()
    thread.join()


def test_without_internet_it_fails_cleanly(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/{NAME}.zip"  # nothing listens: refused
    code = main(["de", "--dest", str(tmp_path), "--url", url, "--sha256", "0" * 64,
                 "--timeout", "5"])
    assert code == EXIT_NETWORK
    err = capsys.readouterr().err
    assert "Download fehlgeschlagen: keine Verbindung zu 127.0.0.1" in err
    assert "--archive" in err and MODELS["de"].sha256 in err
    assert list(tmp_path.iterdir()) == []


def test_a_checksum_mismatch_discards_the_download(file_server: tuple[str, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    base, root = file_server
    model_zip(root / "model.zip")
    dest = tmp_path / "models"
    code = main(["de", "--dest", str(dest), "--url", f"{base}/model.zip", "--sha256", "ab" * 32])
    assert code == EXIT_CHECKSUM
    assert "Prüfsumme stimmt nicht" in capsys.readouterr().err
    assert list(dest.iterdir()) == []


def test_a_good_download_is_unpacked(file_server: tuple[str, Path], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    base, root = file_server
    digest = model_zip(root / "model.zip")
    dest = tmp_path / "models"
    argv = ["de", "--dest", str(dest), "--url", f"{base}/model.zip", "--sha256", digest]
    assert main(argv) == EXIT_OK
    assert (dest / NAME / "am" / "final.mdl").read_bytes() == b"acoustic model"
    assert capsys.readouterr().out.strip() == str(dest / NAME)
    assert main(argv) == EXIT_OK  # already there
    assert sorted(p.name for p in dest.iterdir()) == [NAME]


def test_archive_fetched_elsewhere_is_checked_and_installed(tmp_path: Path) -> None:
    archive = tmp_path / "model.zip"
    digest = model_zip(archive)
    dest = tmp_path / "models"
    assert main(["de", "--dest", str(dest), "--archive", str(archive)]) == EXIT_CHECKSUM
    assert main(["de", "--dest", str(dest), "--archive", str(archive),
                 "--sha256", digest]) == EXIT_OK
    assert (dest / NAME / "README").is_file()


def test_archives_that_escape_or_hold_no_model_are_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    digest = make_zip(evil, {f"{NAME}/../../escape": b"x"})
    assert main(["de", "--dest", str(tmp_path / "m"), "--archive", str(evil),
                 "--sha256", digest]) == EXIT_ARCHIVE
    assert not (tmp_path / "escape").exists()
    empty = tmp_path / "empty.zip"
    digest = make_zip(empty, {f"{NAME}/README": b"x"})
    assert main(["de", "--dest", str(tmp_path / "m"), "--archive", str(empty),
                 "--sha256", digest]) == EXIT_ARCHIVE


def test_usage_errors() -> None:
    assert main(["xx"]) == EXIT_USAGE
    assert main(["de", "--url", "http://127.0.0.1/x.zip"]) == EXIT_USAGE  # no checksum
