"""The command line: typer options, prompts, the error boundary and the output dispatcher;
one module per group of commands."""

from gitdeploy.cli.app import app, main

__all__ = ["app", "main"]
