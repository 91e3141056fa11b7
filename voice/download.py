"""``buergerbot voice download-model de``: fetch a Vosk model for a real deployment, check its
SHA-256, unpack it next to the other models. Without internet it fails with a clear message
(and ``--archive FILE`` installs a zip fetched elsewhere, after the same check).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from voice.errors import ChecksumMismatch, DownloadError


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    url: str
    sha256: str
    size: int


MODELS = {
    # alphacephei's small German model (lookahead graph: supports phrase grammars), 46,499,967
    # bytes. The SHA-256 is the one published in several independent packagings of this file.
    "de": ModelSpec(
        "vosk-model-small-de-0.15",
        "https://alphacephei.com/vosk/models/vosk-model-small-de-0.15.zip",
        "b7e53c90b1f0a38456f4cd62b366ecd58803cd97cd42b06438e2c131713d5e43",
        46_499_967),
}
EXIT_OK, EXIT_USAGE, EXIT_NETWORK, EXIT_CHECKSUM, EXIT_ARCHIVE = 0, 1, 2, 3, 4
_CHUNK = 1 << 16


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def fetch(url: str, target: Path, timeout: float) -> str:
    """Stream ``url`` into ``target``; return the SHA-256 of what arrived."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, target.open("wb") as out:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
        reason = getattr(err, "reason", err)
        host = urllib.parse.urlsplit(url).hostname or url
        raise DownloadError(f"keine Verbindung zu {host} ({reason})") from err
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(actual: str, expected: str) -> None:
    if actual.lower() != expected.lower():
        raise ChecksumMismatch(f"Prüfsumme stimmt nicht: erwartet {expected}, erhalten {actual}")


def unpack(archive: Path, dest: Path, name: str) -> Path:
    """Unpack into ``dest/name`` atomically; refuse entries that would leave ``dest``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                parts = Path(member).parts
                if member.startswith("/") or ".." in parts or not parts or parts[0] != name:
                    raise DownloadError(f"unerwarteter Eintrag im Archiv: {member!r}",
                                        code="download-bad-archive")
            with tempfile.TemporaryDirectory(dir=dest) as tmp:
                zf.extractall(tmp)
                unpacked = Path(tmp) / name
                if not (unpacked / "am" / "final.mdl").is_file():
                    raise DownloadError("Archiv enthält kein Vosk-Modell (am/final.mdl)",
                                        code="download-bad-archive")
                target = dest / name
                if target.exists():
                    shutil.rmtree(target)
                unpacked.rename(target)
    except zipfile.BadZipFile as err:
        raise DownloadError("Datei ist kein ZIP-Archiv", code="download-bad-archive") from err
    return target


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="buergerbot voice download-model",
                                     description="Vosk-Spracherkennungsmodell laden und prüfen")
    parser.add_argument("language", help=f"Sprache: {', '.join(sorted(MODELS))}")
    parser.add_argument("--dest", type=Path, default=Path("var/models"),
                        help="Zielverzeichnis (Standard: var/models)")
    parser.add_argument("--url", help="andere Quelle, z. B. ein Spiegel im Stadtnetz")
    parser.add_argument("--sha256", help="erwartete Prüfsumme (Pflicht bei eigener Quelle)")
    parser.add_argument("--archive", type=Path, help="bereits geladenes ZIP installieren")
    parser.add_argument("--timeout", type=float, default=30.0, help="Sekunden je Lesevorgang")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    spec = MODELS.get(args.language)
    if spec is None:
        _say(f"Unbekannte Sprache {args.language!r}; verfügbar: {', '.join(sorted(MODELS))}")
        return EXIT_USAGE
    if args.url and not args.sha256:
        _say("Für eine eigene Quelle (--url) muss --sha256 angegeben werden.")
        return EXIT_USAGE
    url, expected = args.url or spec.url, args.sha256 or spec.sha256
    dest: Path = args.dest
    target = dest / spec.name
    if (target / "am" / "final.mdl").is_file() and not args.archive:
        _say(f"Modell ist schon vorhanden: {target}")
        print(target)
        return EXIT_OK
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if args.archive:
            verify(sha256_of(args.archive), expected)
            target = unpack(args.archive, dest, spec.name)
        else:
            with tempfile.TemporaryDirectory(dir=dest) as tmp:
                part = Path(tmp) / f"{spec.name}.zip.part"
                _say(f"Lade {url} …")
                verify(fetch(url, part, args.timeout), expected)
                target = unpack(part, dest, spec.name)
    except ChecksumMismatch as err:
        _say(f"Abgebrochen: {err}. Die Datei wurde verworfen.")
        return EXIT_CHECKSUM
    except DownloadError as err:
        if err.code == "download-failed":
            _say(f"Download fehlgeschlagen: {err}.\nOhne Internetzugang: Laden Sie {spec.url} "
                 f"auf einem anderen Rechner, prüfen Sie SHA-256 {spec.sha256} und installieren "
                 f"Sie die Datei mit --archive DATEI.")
            return EXIT_NETWORK
        _say(f"Abgebrochen: {err}.")
        return EXIT_ARCHIVE
    _say(f"Modell installiert: {target}\nEinstellung: BUERGERBOT_VOSK_MODEL_PATH={target}")
    print(target)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
