"""``python -m arithnet``: the ``arithnet`` command."""

from arithnet.cli import app

if __name__ == "__main__":
    app(prog_name="arithnet")
