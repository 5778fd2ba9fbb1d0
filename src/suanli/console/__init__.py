"""The console: one web page for buyers, providers, voucher issuers and the operator.

``suanli serve`` (and so ``suanli demo``) serves it at ``/console/``. It is static HTML,
CSS and JavaScript modules (``static/``) that call the very API the CLI and the SDK use,
with the API key the user logs in with; it has no routes of its own beyond its files and
the province grid (:mod:`.provinces`). Charts are drawn by Plotly, whose JavaScript ships
inside the ``plotly`` package on PyPI and is served from it, so no page needs anything
but the server it came from (the pages say so to the browser: a Content-Security-Policy
of ``'self'``).
"""

from suanli.console.mount import mount_console

__all__ = ["mount_console"]
