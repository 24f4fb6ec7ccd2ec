"""`python -m contactgroup` runs the command line."""

from contactgroup.cli.main import app

app(prog_name="contactgroup")
