"""``suanli agent run``: the center agent, against one exchange and one local cluster.

The agent only makes outbound connections (to the exchange); the center opens no port.
It keeps no state of its own: after a restart it rebuilds everything from what the
exchange and the cluster say (see :mod:`suanli.agent.runner`).
"""

from __future__ import annotations

import logging
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from suanli.agent.drivers.base import Driver, DriverError
from suanli.agent.runner import Agent
from suanli.cli.errors import CliError
from suanli.sdk import Client

app = typer.Typer(no_args_is_help=True, help="The center agent.")


class DriverName(StrEnum):
    SLURM = "slurm"
    KUBERNETES = "kubernetes"
    LOCAL = "local"


def make_driver(name: DriverName, options: dict[str, Any]) -> Driver:
    """The named driver, configured from the command line (one-line error if it can't)."""
    try:
        if name is DriverName.LOCAL:
            from suanli.agent.drivers.local import LocalDriver

            return LocalDriver(options.get("state_dir"), cards=options.get("cards") or 8)
        if name is DriverName.SLURM:
            from suanli.agent.drivers.slurm import SlurmConfig, SlurmDriver

            config = SlurmConfig(
                partition=options.get("partition") or "gpu",
                login_shell=bool(options.get("login_shell")),
            )
            return SlurmDriver(config)
        from suanli.agent.drivers.kubernetes import KubernetesDriver

        return KubernetesDriver(
            namespace=options.get("namespace") or "default",
            kubeconfig=options.get("kubeconfig"),
        )
    except DriverError as exc:
        raise CliError(f"--driver {name}: {exc}") from exc


@app.command("run")
def run(
    exchange: Annotated[
        str, typer.Option("--exchange", envvar="SUANLI_URL", help="The exchange's base URL.")
    ],
    key: Annotated[
        str, typer.Option("--key", envvar="SUANLI_API_KEY", help="The provider's API key.")
    ],
    center: Annotated[int, typer.Option("--center", help="This center's id on the exchange.")],
    driver: Annotated[DriverName, typer.Option("--driver", help="The local cluster manager.")],
    pool: Annotated[
        int | None,
        typer.Option("--pool", help="The pool whose free cards the cluster reports."),
    ] = None,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between passes.")] = 5.0,
    max_backoff: Annotated[
        float, typer.Option("--max-backoff", help="Longest wait after failures, seconds.")
    ] = 60.0,
    partition: Annotated[
        str | None, typer.Option("--partition", help="slurm: the partition to submit to.")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="kubernetes: the namespace.")
    ] = None,
    kubeconfig: Annotated[
        str | None, typer.Option("--kubeconfig", help="kubernetes: kubeconfig file.")
    ] = None,
    login_shell: Annotated[
        bool,
        typer.Option("--login-shell", help="slurm: run jobs in a login shell (bash -lc)."),
    ] = False,
    state_dir: Annotated[
        Path | None, typer.Option("--state-dir", help="local: where job files are kept.")
    ] = None,
    cards: Annotated[
        int | None, typer.Option("--cards", help="local: how many virtual cards to offer.")
    ] = None,
    passes: Annotated[
        int | None, typer.Option("--passes", help="Stop after this many passes (default: run).")
    ] = None,
) -> None:
    """Pull this center's leases, run them on the cluster, report what ran (until stopped)."""
    if poll <= 0 or max_backoff <= 0:
        raise CliError("--poll and --max-backoff must be more than 0 seconds")
    if center < 1:
        raise CliError(f"--center must be a center id (>= 1), got {center}")
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    options = {
        "partition": partition,
        "namespace": namespace,
        "kubeconfig": kubeconfig,
        "state_dir": state_dir,
        "cards": cards,
        "login_shell": login_shell,
    }
    the_driver = make_driver(driver, options)
    with Client(exchange, api_key=key) as client:
        agent = Agent(
            client, the_driver, center, pool_id=pool, poll_s=poll, max_backoff_s=max_backoff
        )

        def stop(*_: object) -> None:
            agent.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logging.getLogger("suanli.agent").info(
            "agent for center %s on %s (driver %s) started", center, exchange, driver
        )
        agent.run(passes=passes)
