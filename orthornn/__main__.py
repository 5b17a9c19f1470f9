"""``python -m orthornn`` runs the command line."""

from .cli import console

console()
