"""Sub-commands of the `shareguard` CLI, one typer app per area; cli.py registers them."""
