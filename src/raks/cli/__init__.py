"""raks' command line: thin Typer commands; the only layer that prints."""
