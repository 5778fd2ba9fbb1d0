"""``suanli center ...``, ``suanli pool ...`` and ``suanli offers``: the supply side."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.capacity.schemas import CenterIn, CenterOut, CenterPatch, PoolIn, PoolOut, PoolPatch
from suanli.cli import output, parse
from suanli.cli.context import client
from suanli.cli.errors import CliError
from suanli.vocab import CenterStatus

centers = typer.Typer(help="Computing centers (providers register their own).")
pools = typer.Typer(help="Node pools: identical nodes of one accelerator model at one price.")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
# Lets a negative number through as an argument, so it gets a one-line error of ours.
NUMBERS = {"ignore_unknown_options": True}
POOL_COLUMNS = (
    *(">id", ">center", "name", "model", ">nodes", ">free/cards", "fabric", ">per card-h"),
    "state",
)
OFFER_COLUMNS = (
    *(">pool", "center", "province", "city", "model", ">GB", ">TFLOPS", ">per node"),
    *("fabric", ">free/cards", ">per card-h"),
)


# -- centers ------------------------------------------------------------------------------
def show_center(center: CenterOut, pool_list: list[PoolOut] | None = None) -> None:
    output.details(
        f"center {center.id}  {center.name}",
        [
            ("name (zh)", center.name_zh),
            ("province", center.province),
            ("city", center.city),
            ("status", output.status(center.status)),
            ("provider", center.provider_id),
            ("cards", f"{center.cards_free} free of {center.cards}"),
            ("PUE", center.pue),
            ("rack kW", center.rack_kw),
            ("registered", output.when(center.created_at)),
        ],
    )
    if pool_list is not None:
        pool_table(pool_list, title="pools")


@centers.command("register")
def register(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The center's name (unique among yours).")
    ],
    province: Annotated[str, typer.Option("--province", help="e.g. 贵州 or Guizhou")],
    city: Annotated[str, typer.Option("--city")],
    name_zh: Annotated[str | None, typer.Option("--name-zh", help="Chinese name.")] = None,
    pue: Annotated[str, typer.Option("--pue", help="Power usage effectiveness, 1-3.")] = "1.3",
    rack_kw: Annotated[str, typer.Option("--rack-kw", help="kW per rack.")] = "12",
    center_status: Annotated[
        CenterStatus, typer.Option("--status", help="Initial status.")
    ] = CenterStatus.ACTIVE,
    as_json: Json = False,
) -> None:
    """Register a computing center (as its provider)."""
    body = CenterIn(
        name=name,
        name_zh=name_zh,
        province=province,
        city=city,
        pue=parse.decimal(pue, "--pue"),
        rack_kw=parse.decimal(rack_kw, "--rack-kw"),
        status=center_status,
    )
    with client() as api:
        center = api.register_center(body)
    if as_json:
        output.emit_json(center)
    else:
        show_center(center)


@centers.command("list")
def list_centers(as_json: Json = False) -> None:
    """List the centers you may see (yours; all for the operator), by province."""
    with client() as api:
        found = sorted(api.list_centers(), key=lambda c: (c.province, c.city, c.name, c.id))
    if as_json:
        output.emit_json(found)
        return
    output.table(
        [">id", "name", "province", "city", "status", ">cards", ">free", ">PUE"],
        [
            (
                c.id,
                c.name,
                c.province,
                c.city,
                output.status(c.status),
                c.cards,
                c.cards_free,
                c.pue,
            )
            for c in found
        ],
    )


@centers.command("show")
def show(
    center_id: Annotated[int, typer.Argument(metavar="CENTER_ID", help="Center id.")],
    as_json: Json = False,
) -> None:
    """Show a center and its pools."""
    with client() as api:
        center = api.get_center(center_id)
        pool_list = sorted(api.list_pools(center_id), key=lambda p: p.id)
    if as_json:
        output.emit_json({**output.jsonable(center), "pools": output.jsonable(pool_list)})
    else:
        show_center(center, pool_list)


@centers.command("set")
def set_center(
    center_id: Annotated[int, typer.Argument(metavar="CENTER_ID", help="Center id.")],
    center_status: Annotated[
        CenterStatus | None, typer.Option("--status", help="New status.")
    ] = None,
    pue: Annotated[str | None, typer.Option("--pue", help="Power usage effectiveness.")] = None,
    rack_kw: Annotated[str | None, typer.Option("--rack-kw", help="kW per rack.")] = None,
    as_json: Json = False,
) -> None:
    """Change a center's status, PUE or rack power."""
    values: dict[str, object] = {}
    if center_status is not None:
        values["status"] = center_status
    if pue is not None:
        values["pue"] = parse.decimal(pue, "--pue")
    if rack_kw is not None:
        values["rack_kw"] = parse.decimal(rack_kw, "--rack-kw")
    if not values:
        raise CliError("nothing to change: give --status, --pue or --rack-kw")
    patch = CenterPatch.model_validate(values)
    with client() as api:
        center = api.update_center(center_id, patch)
    if as_json:
        output.emit_json(center)
    else:
        show_center(center)


# -- pools --------------------------------------------------------------------------------
def pool_table(pool_list: list[PoolOut], *, title: str = "") -> None:
    output.table(
        POOL_COLUMNS,
        [
            (
                p.id,
                p.center_id,
                p.name,
                p.model,
                f"{p.nodes}x{p.cards_per_node}",
                f"{p.cards_free}/{p.cards}",
                f"{p.inter_node} {p.inter_node_gbps}G",
                output.money(p.price_fen),
                output.status("active" if p.active else "inactive"),
            )
            for p in pool_list
        ],
        title=title,
    )


def show_pool(pool: PoolOut) -> None:
    output.details(
        f"pool {pool.id}  {pool.name}",
        [
            ("center", pool.center_id),
            ("model", pool.model),
            ("nodes", f"{pool.nodes} x {pool.cards_per_node} cards"),
            ("cards", f"{pool.cards_free} free of {pool.cards}"),
            ("per node", f"{pool.cpu_per_node} CPU cores, {pool.memory_gb_per_node} GB memory"),
            ("intra-node", pool.intra_node),
            ("inter-node", f"{pool.inter_node} {pool.inter_node_gbps} Gbit/s"),
            ("price", output.per_card_hour(pool.price_fen)),
            ("state", output.status("active" if pool.active else "inactive")),
            ("listed", output.when(pool.created_at)),
        ],
    )


@pools.command("add")
def add(
    center_id: Annotated[
        int, typer.Argument(metavar="CENTER_ID", help="The center the nodes are in.")
    ],
    name: Annotated[str, typer.Argument(metavar="NAME", help="The pool's name.")],
    model: Annotated[str, typer.Option("--model", help="Accelerator model, e.g. H800.")],
    nodes: Annotated[int, typer.Option("--nodes", help="Number of identical nodes.")],
    cards_per_node: Annotated[int, typer.Option("--cards-per-node", help="Cards per node.")],
    price: Annotated[str, typer.Option("--price", help="Yuan per card-hour, e.g. 12.50.")],
    cpu: Annotated[int, typer.Option("--cpu", help="CPU cores per node.")] = 96,
    memory_gb: Annotated[int, typer.Option("--memory-gb", help="Memory per node, GB.")] = 1024,
    intra: Annotated[
        str, typer.Option("--intra", help="pcie|nvlink|hccs|ub|xgmi|mlu-link|xpu-link")
    ] = "pcie",
    inter: Annotated[
        str, typer.Option("--inter", help="none|ethernet|roce|infiniband")
    ] = "ethernet",
    inter_gbps: Annotated[int, typer.Option("--inter-gbps", help="Inter-node Gbit/s.")] = 100,
    as_json: Json = False,
) -> None:
    """List a pool of identical nodes at a price per card-hour."""
    body = PoolIn(
        name=name,
        model=model,
        nodes=parse.at_least(nodes, 1, "--nodes"),
        cards_per_node=parse.at_least(cards_per_node, 1, "--cards-per-node"),
        cpu_per_node=parse.at_least(cpu, 1, "--cpu"),
        memory_gb_per_node=parse.at_least(memory_gb, 1, "--memory-gb"),
        intra_node=intra,
        inter_node=inter,
        inter_node_gbps=parse.at_least(inter_gbps, 0, "--inter-gbps"),
        price_fen=parse.fen(price, "--price"),
    )
    with client() as api:
        pool = api.add_pool(center_id, body)
    if as_json:
        output.emit_json(pool)
    else:
        show_pool(pool)


@pools.command("list")
def list_pools(
    center: Annotated[int | None, typer.Option("--center", help="Only this center.")] = None,
    as_json: Json = False,
) -> None:
    """List the pools you may see, by center."""
    with client() as api:
        found = sorted(api.list_pools(center), key=lambda p: (p.center_id, p.model, p.id))
    if as_json:
        output.emit_json(found)
    else:
        pool_table(found)


@pools.command("show")
def show_pool_command(
    pool_id: Annotated[int, typer.Argument(metavar="POOL_ID", help="Pool id.")],
    as_json: Json = False,
) -> None:
    """Show one pool."""
    with client() as api:
        pool = api.get_pool(pool_id)
    if as_json:
        output.emit_json(pool)
    else:
        show_pool(pool)


def _update(pool_id: int, patch: PoolPatch, as_json: bool) -> None:
    with client() as api:
        pool = api.update_pool(pool_id, patch)
    if as_json:
        output.emit_json(pool)
    else:
        show_pool(pool)


@pools.command("price", context_settings=NUMBERS)
def price_command(
    pool_id: Annotated[int, typer.Argument(metavar="POOL_ID", help="Pool id.")],
    price: Annotated[
        str, typer.Argument(metavar="PRICE_YUAN", help="New price, yuan per card-hour.")
    ],
    as_json: Json = False,
) -> None:
    """Post a new price per card-hour (leases already placed keep theirs)."""
    _update(pool_id, PoolPatch(price_fen=parse.fen(price, "price")), as_json)


@pools.command("set")
def set_pool(
    pool_id: Annotated[int, typer.Argument(metavar="POOL_ID", help="Pool id.")],
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Offer the pool for new work, or withdraw it."),
    ] = None,
    price: Annotated[str | None, typer.Option("--price", help="Yuan per card-hour.")] = None,
    as_json: Json = False,
) -> None:
    """Activate or withdraw a pool (and optionally change its price)."""
    values: dict[str, object] = {}
    if active is not None:
        values["active"] = active
    if price is not None:
        values["price_fen"] = parse.fen(price, "--price")
    if not values:
        raise CliError("nothing to change: give --active, --inactive or --price")
    _update(pool_id, PoolPatch.model_validate(values), as_json)


# -- the market ---------------------------------------------------------------------------
def offers(
    model: Annotated[str | None, typer.Option("--model", help="Accelerator model.")] = None,
    province: Annotated[str | None, typer.Option("--province", help="e.g. 贵州")] = None,
    min_free: Annotated[
        int | None, typer.Option("--min-free", help="At least N free cards.")
    ] = None,
    max_price: Annotated[
        str | None, typer.Option("--max-price", help="Yuan per card-hour at most.")
    ] = None,
    min_memory: Annotated[
        int | None, typer.Option("--min-memory-gb", help="At least N GB per card.")
    ] = None,
    inter: Annotated[
        str | None, typer.Option("--inter", help="Inter-node fabric, e.g. infiniband.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="e.g. East, Southwest.")] = None,
    as_json: Json = False,
) -> None:
    """Browse the market: pools with free cards, cheapest first."""
    max_fen = parse.optional_fen(max_price, "--max-price")
    with client() as api:
        found = api.offers(
            model=model,
            province=province,
            min_free=parse.optional_at_least(min_free, 0, "--min-free"),
            max_price_fen=max_fen,
            min_memory_gb=parse.optional_at_least(min_memory, 1, "--min-memory-gb"),
            inter_node=inter,
            region=region,
        )
    found.sort(key=lambda o: (o.price_fen, -o.cards_free, o.pool_id))
    if as_json:
        output.emit_json(found)
        return
    output.table(
        OFFER_COLUMNS,
        [
            (
                o.pool_id,
                o.center,
                o.province,
                o.city,
                o.model,
                o.memory_gb,
                f"{o.fp16_tflops:.0f}",
                f"{o.cards_per_node} cards",
                o.inter_node,
                f"{o.cards_free}/{o.cards}",
                output.money(o.price_fen),
            )
            for o in found
        ],
    )
