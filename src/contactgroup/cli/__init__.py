"""Command line adapter: thin Typer commands over services and reports."""
