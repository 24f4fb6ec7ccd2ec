"""The command-line reference (docs/cli.md), generated from the commands themselves so it cannot drift.

Regenerate with: .venv/bin/python -m contactgroup.cli.reference > docs/cli.md
"""

from __future__ import annotations

import enum
import inspect
from typing import Any

import typer

from contactgroup.cli.main import app


# Typer ships its own copy of Click, so commands and parameters are read by duck typing.
def _params(command: Any) -> list[str]:
    lines = []
    for p in command.params:
        if p.name in ("help", "install_completion", "show_completion"):
            continue
        if p.param_type_name == "argument":
            help_text = " ".join((getattr(p, "help", None) or "").split())
            lines.append(f"- `{p.name.upper()}` (argument){': ' + help_text if help_text else ''}")
            continue
        names = ", ".join(f"`{o}`" for o in p.opts + p.secondary_opts)
        help_text = " ".join((p.help or "").split())
        extra = []
        annotation = getattr(getattr(p, "type_descriptor", None), "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            extra.append("one of " + ", ".join(f"`{c.value}`" for c in annotation))
        if p.envvar:
            extra.append(f"env `{p.envvar}`")
        default = p.default.value if isinstance(p.default, enum.Enum) else p.default
        if default not in (None, False, (), "") and not p.required and not callable(default):
            extra.append(f"default `{default}`")
        if p.required:
            extra.append("required")
        tail = f" ({'; '.join(extra)})" if extra else ""
        lines.append(f"- {names}" + (f": {help_text}" if help_text else "") + tail)
    return lines


def _walk(command: Any, path: list[str], out: list[str]) -> None:
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        for name in sorted(subcommands):
            _walk(subcommands[name], [*path, name], out)
        if command.callback is None or not path:
            return
    out.append(f"## `{' '.join(['contactgroup', *path])}`\n")
    doc = inspect.cleandoc(command.help or "")
    out.append(" ".join(doc.split("\n\n")[0].split()) + "\n")
    rest = doc.split("\n\n", 1)[1:] if "\n\n" in doc else []
    if rest:
        out.append("\n\n".join(" ".join(par.split()) for par in rest[0].split("\n\n")) + "\n")
    params = _params(command)
    if params:
        out.append("\n".join(params) + "\n")


def markdown() -> str:
    root = typer.main.get_command(app)
    out = ["# Command-line reference\n",
           "Generated from the commands (`python -m contactgroup.cli.reference > docs/cli.md`); "
           "`contactgroup COMMAND --help` says the same.\n"]
    _walk(root, [], out)
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown(), end="")
