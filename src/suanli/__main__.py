"""``python -m suanli`` is the ``suanli`` command."""

from suanli.cli.main import app

app(prog_name="suanli")
