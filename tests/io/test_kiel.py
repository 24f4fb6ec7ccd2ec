from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactgroup.domain.errors import ValidationFailed
from contactgroup.domain.model import MemberKind
from contactgroup.io import kiel
from contactgroup.io.kiel import read_release

Edit = Callable[[str], str]
FIRST = '"Australia","AUS",2022,2,0.002645,0,0,0.002645,0.002645,0,1312.77115526256,0.000201482184415531'


def replace_first_row(new: str) -> Edit:
    def edit(text: str) -> str:
        assert FIRST in text
        return text.replace(FIRST, new, 1)

    return edit


def problems(directory: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        read_release(directory)
    return [str(p) for p in caught.value.problems]


class TestReadRelease29:
    def test_reads_every_row_and_the_release(self, kiel_r29: Path) -> None:
        release = read_release(kiel_r29)
        assert (release.release, release.source, len(release.rows)) == ("29", "Kiel UST Release 29", 1079)
        assert release.label == "Ukraine Support Tracker, Release 29 (04/2026)"

    def test_donors_include_the_eu_as_an_organisation_without_gdp(self, kiel_r29: Path) -> None:
        donors = {d.iso: d for d in read_release(kiel_r29).donors()}
        assert len(donors) == 42
        eu = donors["EU"]
        assert (eu.kind, eu.name, eu.gdp_eur) == (MemberKind.ORGANISATION, "EU (Commission and Council)", None)
        assert donors["AUS"].gdp_eur == Decimal("1312.77115526256") * 10**9

    def test_tracked_aid_is_in_eur_per_category_and_commitments_unsplit(self, kiel_r29: Path) -> None:
        aid = {a.key: a for a in read_release(kiel_r29).tracked_aid()}
        mil = aid["Kiel UST Release 29/AUS/2022-02/military"]
        assert (mil.allocated_eur, mil.committed_eur, mil.month) == (Decimal(2645000), 0, "2022-02")
        com = aid["Kiel UST Release 29/AUS/2022-02/unspecified"]
        assert (com.allocated_eur, com.committed_eur) == (0, Decimal(2645000))
        assert "Kiel UST Release 29/AUS/2022-02/financial" not in aid  # zero amounts are not recorded


class TestRejectsMalformedCells:
    @pytest.mark.parametrize(("row", "column", "words", "at"), [
        ('"Australia","AUS",2022,2,abc,0,0,0.002645,0.002645,0,1312.77,0', "total", "not a number", 2),
        ('"Australia","AUS",2022,2,0.002645,0,0,0.002645,-0.1,0,1312.77,0', "commitments", "negative", 2),
        ('"Australia","AU",2022,2,0.002645,0,0,0.002645,0.002645,0,1312.77,0', "iso", "ISO 3166", 2),
        ('"Australia","AUS",20x2,2,0.002645,0,0,0.002645,0.002645,0,1312.77,0', "year", "not a year", 2),
        ('"Australia","AUS",2022,13,0.002645,0,0,0.002645,0.002645,0,1312.77,0', "month", "not a month", 2),
        ('"Australia","AUS",2022,2,0.002645,0,0,,0.002645,0,1312.77,0', "military", "missing value", 2),
        ('"Australia","AUS",2022,2,0.5,0,0,0.002645,0.002645,0,1312.77,0', "total", "not the sum", 2),
        ('"Australia","AUS",2022,2,0.002645,0,0,0.002645,0.002645,0,999,0', "gdp", "differs", 3),
        ('"Australia","AUS",2022,3,0.002645,0,0,0.002645,0.002645,0,1312.77115526256,0', "iso", "already given", 3),
    ])
    def test_names_file_row_and_column(self, bad_release: Callable[[Edit], Path], row: str, column: str,
                                       words: str, at: int) -> None:
        # Row 2 is the first data row; a conflict with it is reported on the later row (3, AUS 2022-03).
        found = problems(bad_release(replace_first_row(row)))
        assert any(p.startswith(f"data_explorer.csv, row {at}, column {column}: ") and words in p for p in found), found

    def test_every_problem_is_reported_not_just_the_first(self, bad_release: Callable[[Edit], Path]) -> None:
        edit = replace_first_row('"Australia","AUS",1800,0,x,0,0,0.002645,0.002645,0,1312.77115526256,0')
        found = problems(bad_release(edit))
        assert {p.split(":")[0] for p in found} >= {f"data_explorer.csv, row 2, column {c}"
                                                    for c in ("year", "month", "total")}

    def test_missing_column(self, bad_release: Callable[[Edit], Path]) -> None:
        found = problems(bad_release(lambda text: text.replace('"military",', '"weapons",', 1)))
        assert found == ["data_explorer.csv, row 1, column military: missing column"]

    def test_missing_release_info(self, tmp_path: Path, kiel_r29: Path) -> None:
        (tmp_path / "data_explorer.csv").write_bytes((kiel_r29 / "data_explorer.csv").read_bytes())
        assert problems(tmp_path) == [f"release_info.csv: no such file (looked in {tmp_path.resolve()})"]

    def test_not_a_directory(self, tmp_path: Path) -> None:
        assert problems(tmp_path / "nowhere")[0].endswith("not a directory")


# --- writing the tracker's layout (a public release) --------------------------------------------------------------

_EUR = st.decimals(min_value=0, max_value=Decimal("1e15"), places=2, allow_nan=False, allow_infinity=False)


@st.composite
def _rows(draw: st.DrawFn) -> list[kiel.KielRow]:
    donors = draw(st.lists(st.sampled_from(["DEU", "FRA", "USA", "XKX", "EU"]), min_size=1, max_size=3, unique=True))
    rows = []
    for iso in donors:
        gdp = kiel.billions(draw(_EUR))
        for year, month in sorted(draw(st.sets(st.tuples(st.integers(2022, 2026), st.integers(1, 12)), min_size=1,
                                               max_size=4))):
            money = {c: kiel.billions(draw(_EUR)) for c in (*kiel.CATEGORIES, "commitments")}
            rows.append(kiel.KielRow(row=len(rows) + 2, country=f"Donor {iso}", iso=iso, year=year, month=month,
                                     total=sum((money[c] for c in kiel.CATEGORIES), Decimal(0)), gdp=gdp, **money))
    return rows


@given(_rows())
def test_written_rows_read_back_to_the_same_euros(rows: list[kiel.KielRow]) -> None:
    """What `data_explorer_csv` writes, `parse_rows` reads back with every amount equal to the cent (€ bn exact)."""
    lines = kiel.data_explorer_csv(rows).splitlines()
    header, *data = list(csv.reader(lines))
    parsed, found = kiel.parse_rows(header, [dict(zip(header, r, strict=True)) for r in data])
    assert found == []
    assert [(r.iso, r.year, r.month, *(kiel.eur(getattr(r, c)) for c in kiel.MONEY)) for r in parsed] == \
        [(r.iso, r.year, r.month, *(kiel.eur(getattr(r, c)) for c in kiel.MONEY)) for r in rows]
