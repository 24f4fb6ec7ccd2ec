"""`contactgroup allocate --problem FILE --plan FILE`: a plan from a file, or one clear message per problem."""

from __future__ import annotations

import inspect
import json
import os
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from contactgroup.allocation import plan_to_dict, problem_from_dict, solve
from contactgroup.cli.allocate import allocate

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "formats" / "allocation-example.json"

app = typer.Typer()
app.command()(allocate)
runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def write(tmp_path: Path, data: object, name: str = "problem.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


class TestFromAFile:
    def test_writes_the_optimal_plan_and_a_summary(self, tmp_path: Path) -> None:
        out = tmp_path / "plan.json"
        result = run("--problem", str(EXAMPLE), "--plan", str(out))
        assert result.exit_code == 0, result.output
        expected = plan_to_dict(solve(problem_from_dict(json.loads(EXAMPLE.read_text()))))
        assert json.loads(out.read_text()) == expected
        assert "greedy" in result.output and "short" in result.output
        assert "+2,000" in result.output  # priority 2 gains what greedy strands
        assert "lateness" in result.output and "solve time" in result.output

    def test_writes_identical_bytes_every_time(self, tmp_path: Path) -> None:
        first, second = tmp_path / "a.json", tmp_path / "b.json"
        assert run("--problem", str(EXAMPLE), "--plan", str(first)).exit_code == 0
        assert run("--problem", str(EXAMPLE), "--plan", str(second), "--no-compare").exit_code == 0
        assert first.read_bytes() == second.read_bytes()

    def test_dash_writes_the_plan_to_stdout(self) -> None:
        result = run("--problem", str(EXAMPLE), "--plan", "-")
        assert result.exit_code == 0
        assert json.loads(result.stdout)["method"] == "exact"

    def test_help_paragraphs_wrap_only_at_the_terminal_width(self) -> None:
        # Rich keeps single newlines of a docstring, which broke lines mid-sentence: one line per paragraph.
        doc = inspect.getdoc(allocate) or ""
        assert all("\n" not in paragraph for paragraph in doc.split("\n\n"))

    def test_is_registered_on_the_main_command(self) -> None:
        from contactgroup.cli.main import app as main_app

        names = {c.name or (c.callback.__name__ if c.callback else "") for c in main_app.registered_commands}
        assert "allocate" in names


class TestBadInput:
    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (lambda d: d["offers"][3].update(quantity=-5), "offers[3].quantity: must be a non-negative integer"),
            (lambda d: d["requirements"][0].update(item_class="nope"), "requirements[0].item_class: unknown item"),
            (lambda d: d["pinned"][0].update(offer="O-XXX"), "pinned[0].offer: unknown offer 'O-XXX'"),
            (lambda d: d["pinned"][0].update(quantity=31), "pinned[0].quantity: pins of offer 'O-POL-1' total 31"),
            (lambda d: d["pinned"][0].update(requirement="R-001"), "pinned[0].offer: offer 'O-POL-1'"),
            (lambda d: d["requirements"][2].update(needed_by="2025-13-01"), "requirements[2].needed_by: must be"),
            (lambda d: d["offers"][1].update(id="O-DEU-1"), "offers[1].id: duplicate id 'O-DEU-1'"),
            # Limits that keep every cost inside 64 bits (docs/formats/allocation.md).
            (lambda d: d["offers"][0].update(available_from="9999-12-31"),
             "offers[0].available_from: must be between 1900-01-01 and 2999-12-31"),
            (lambda d: d["transit_days"]["USA"].update(UKR=10**9), "transit_days.USA.UKR: must be an integer from 0"),
            (lambda d: d["offers"][0].update(quantity=10**30), "offers[0].quantity: must be at most 10^12"),
            (lambda d: d["offers"][0].update(quantity=2**62), "offers[0].quantity: must be at most 10^12"),
            (lambda d: d["requirements"][0].update(quantity=5 * 10**18), "requirements[0].quantity: must be at most"),
            (lambda d: [o.update(quantity=5 * 10**18) for o in d["offers"][:2]], "offers[1].quantity: must be at"),
            (lambda d: d["requirements"].extend(
                dict(d["requirements"][0], id=f"R-X{i}", quantity=10**12) for i in range(1001)),
             "requirements: quantities add up to"),
        ],
    )
    def test_names_the_field_exits_non_zero_and_writes_no_plan(
        self, tmp_path: Path, change: Any, expected: str
    ) -> None:
        data = json.loads(EXAMPLE.read_text())
        change(data)
        out = tmp_path / "plan.json"
        result = run("--problem", str(write(tmp_path, data)), "--plan", str(out))
        assert result.exit_code == 2
        assert expected in result.stderr
        assert not out.exists()
        assert list(tmp_path.iterdir()) == [tmp_path / "problem.json"]

    def test_one_line_per_problem(self, tmp_path: Path) -> None:
        data = json.loads(EXAMPLE.read_text())
        data["offers"][0]["quantity"] = -1
        data["offers"][1]["origin"] = ""
        result = run("--problem", str(write(tmp_path, data)), "--plan", str(tmp_path / "plan.json"))
        lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 2
        assert lines[0].startswith("error: offers[0].quantity")

    def test_invalid_json_names_line_and_column(self, tmp_path: Path) -> None:
        path = tmp_path / "problem.json"
        path.write_text('{"requirements": [,]}')
        result = run("--problem", str(path), "--plan", str(tmp_path / "plan.json"))
        assert result.exit_code == 2
        assert f"{path}:1:19: not valid JSON" in result.stderr
        assert not (tmp_path / "plan.json").exists()

    def test_missing_file(self, tmp_path: Path) -> None:
        result = run("--problem", str(tmp_path / "none.json"), "--plan", str(tmp_path / "plan.json"))
        assert result.exit_code == 2
        assert "--problem: no such file" in result.stderr

    def test_missing_plan_option(self) -> None:
        result = run("--problem", str(EXAMPLE))
        assert result.exit_code == 2
        assert "--plan" in result.stderr

    def test_a_database_named_with_a_problem_file_is_refused_not_ignored(self, tmp_path: Path) -> None:
        result = run("--problem", str(EXAMPLE), "--plan", str(tmp_path / "plan.json"), "--db", "other.db")
        assert result.exit_code == 2 and "--db: applies without --problem only" in result.stderr
        assert not (tmp_path / "plan.json").exists()

    def test_unwritable_plan_location(self, tmp_path: Path) -> None:
        result = run("--problem", str(EXAMPLE), "--plan", str(tmp_path / "no" / "such" / "dir" / "plan.json"))
        assert result.exit_code == 2
        assert "--plan: cannot write" in result.stderr


class TestLargeNumbers:
    def test_largest_quantities_at_the_far_end_of_the_dates_give_exact_lateness(self, tmp_path: Path) -> None:
        data = json.loads(EXAMPLE.read_text())
        data["requirements"] = [dict(data["requirements"][0], quantity=10**12, needed_by="1900-01-01")]
        data["offers"] = [dict(data["offers"][0], quantity=10**12, available_from="2999-12-31", consent_from=None)]
        data["transit_days"] = {data["offers"][0]["origin"]: {data["requirements"][0]["destination"]: 3650}}
        data["pinned"], data["consents_granted"] = [], []
        out = tmp_path / "plan.json"
        result = run("--problem", str(write(tmp_path, data)), "--plan", str(out))
        assert result.exit_code == 0, result.output
        late = (date(2999, 12, 31) - date(1900, 1, 1)).days + 3650
        assert json.loads(out.read_text())["objective"]["total_lateness"] == 10**12 * late


class TestPlanPath:
    def test_writes_through_a_symbolic_link(self, tmp_path: Path) -> None:
        target, link = tmp_path / "target.json", tmp_path / "link.json"
        target.write_text("old")
        link.symlink_to(target.name)
        assert run("--problem", str(EXAMPLE), "--plan", str(link)).exit_code == 0
        assert link.is_symlink()
        assert json.loads(target.read_text())["method"] == "exact"

    def test_writes_into_a_device_without_replacing_it(self) -> None:
        assert run("--problem", str(EXAMPLE), "--plan", "/dev/null").exit_code == 0
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)

    def test_a_directory_is_refused(self, tmp_path: Path) -> None:
        result = run("--problem", str(EXAMPLE), "--plan", str(tmp_path))
        assert result.exit_code == 2
        assert f"--plan: {tmp_path} is a directory" in result.stderr

    def test_the_problem_file_is_never_overwritten(self, tmp_path: Path) -> None:
        problem = write(tmp_path, json.loads(EXAMPLE.read_text()))
        before = problem.read_bytes()
        result = run("--problem", str(problem), "--plan", str(problem))
        assert result.exit_code == 2
        assert "is the problem file" in result.stderr
        assert problem.read_bytes() == before

    def test_a_new_plan_gets_the_usual_mode(self, tmp_path: Path) -> None:
        old = os.umask(0o022)
        try:
            assert run("--problem", str(EXAMPLE), "--plan", str(tmp_path / "plan.json")).exit_code == 0
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / "plan.json").stat().st_mode) == 0o644

    def test_a_replaced_plan_keeps_its_mode(self, tmp_path: Path) -> None:
        out = tmp_path / "plan.json"
        out.write_text("old")
        out.chmod(0o640)
        assert run("--problem", str(EXAMPLE), "--plan", str(out)).exit_code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o640


class TestDatabaseMode:
    def test_without_a_problem_file_it_needs_to_know_who_acts(self) -> None:
        result = run()
        assert result.exit_code == 2
        assert "pass --as NAME or set CONTACTGROUP_USER" in result.stderr
