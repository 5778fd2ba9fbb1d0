"""``suanli ...``: the command line over the typed SDK (and, for admin work, the database).

One module per command group; :mod:`.main` assembles them. Every command that reads has
``--json`` (one JSON document on stdout); every expected failure is one line on stderr,
``error: <message>``, and exit status 1.
"""
