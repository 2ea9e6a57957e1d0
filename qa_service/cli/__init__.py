"""The `qa-service` command line."""

from qa_service.cli.main import cli, main

__all__ = ["cli", "main"]
