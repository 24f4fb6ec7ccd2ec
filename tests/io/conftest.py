from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import KIEL_R29

Edit = Callable[[str], str]


@pytest.fixture
def kiel_r29() -> Path:
    if not (KIEL_R29 / "data_explorer.csv").exists():
        pytest.fail(f"the Kiel Release 29 files are expected in {KIEL_R29.resolve()}")
    return KIEL_R29


@pytest.fixture
def bad_release(tmp_path: Path, kiel_r29: Path) -> Callable[[Edit], Path]:
    """A temporary copy of Release 29 whose data_explorer.csv text is changed by `edit`."""

    def make(edit: Edit) -> Path:
        target = tmp_path / "release"
        shutil.copytree(kiel_r29, target)
        data = target / "data_explorer.csv"
        data.chmod(0o644)
        data.write_text(edit(data.read_text(encoding="utf-8")), encoding="utf-8")
        return target

    return make
