"""`contactgroup publish OUTDIR`: the public transparency release (see docs/publish.md), written from the local
database, or from the server's (`GET /api/v1/release`: the same service's files, written here as they come)."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import typer
from rich.markup import escape

from contactgroup.cli import seam
from contactgroup.cli.common import DbOption, database, err, handles_errors, out, whole_number_in
from contactgroup.domain.errors import ContactGroupError
from contactgroup.services.clock import SystemClock
from contactgroup.services.publish import EVIDENCE_FILE, MAX_RELEASE_NUMBER, Published, write_files
from contactgroup.services.publish import publish as publish_release

# A server's release is taken only as files of a release: relative paths of plain names, so many, so large.
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_FILES = 1000
MAX_BYTES = 512 * 1024 * 1024


@handles_errors
def publish(
    outdir: Annotated[Path, typer.Argument(help="A new (or empty) directory to write the release into.")],
    release: Annotated[int, typer.Option("--release", parser=whole_number_in(1, MAX_RELEASE_NUMBER),
                                         help="The release's number in the Kiel tracker's layout (kiel/"
                                              "release_info.csv): one more than the last you published.")] = 1,
    db: DbOption = None,
) -> None:
    """Write the public part of the record at its newest witnessed checkpoint: the Kiel tracker's layout, HXL CSV,
    IATI XML, HTML pages and the evidence (events, inclusion proofs, the signed checkpoint) in release.json.
    Against a server, the server computes the release and its files are written here."""
    def here() -> Published:
        db_ = database(db)
        db_.require_initialised()
        return publish_release(db_, outdir, SystemClock(), release)

    done = seam.fetch(db, here, seam.Remote("GET", "/api/v1/release", lambda answer: _written(outdir, answer),
                                            params={"release": release}))
    if done.not_in_iati:
        err.print(f"[bold yellow]note[/]: left out of the IATI file, having humanitarian or financial figures but no "
                  f"IATI organisation identifier (`member iati`): {escape(', '.join(done.not_in_iati))}",
                  highlight=False)
    if done.not_in_kiel:
        err.print(f"[bold yellow]note[/]: left out of kiel/, their codes being none the Kiel tracker's layout takes: "
                  f"{escape(', '.join(done.not_in_kiel))}", highlight=False)
    if done.actors:
        err.print(f"[bold yellow]note[/]: older events in {EVIDENCE_FILE} (body version 1 or 2) name the accounts "
                  f"that recorded them: {escape(', '.join(done.actors))}", highlight=False)
    out.print(f"[green]✓[/] public release at tree size {done.tree_size:,} written to {escape(str(outdir))}: "
              f"{len(done.files)} files, {done.records:,} records with their events and proofs", highlight=False)


def _written(outdir: Path, answer: Any) -> Published:
    """The server's release written into `outdir` as `publish` writes a local one: all or nothing."""
    files = {_path(f["path"]): _content(f["path"], f["content"]) for f in answer["files"]}
    if len(files) != len(answer["files"]) or len(files) > MAX_FILES or sum(map(len, files.values())) > MAX_BYTES:
        raise ContactGroupError(f"the server's release is not one this command writes ({len(files)} files)",
                                code="server")
    write_files(outdir, files)
    return Published(outdir, int(answer["tree_size"]), tuple(sorted(files)), int(answer["records"]),
                     tuple(answer["not_in_iati"]), tuple(answer["not_in_kiel"]), tuple(answer["actors"]))


def _path(name: Any) -> str:
    """A file's place in the release: never outside OUTDIR (no absolute path, no `..`), whatever a server sends."""
    parts = PurePosixPath(str(name)).parts
    if not parts or len(parts) > 3 or not all(_FILE_NAME.match(p) for p in parts):
        raise ContactGroupError(f"the server's release names a file {str(name)[:100]!r} that is no file of a "
                                "release", code="server")
    return "/".join(parts)


def _content(name: str, text: Any) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise ContactGroupError(f"the server's release has {name} in a form this command does not read",
                                code="server") from None
