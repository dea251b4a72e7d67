"""`python -m gemroll_cli`: the `gemroll` command."""

from .cli import app

if __name__ == "__main__":
    app()
