"""``suanli request ...``: buyers quote, submit, list, read and cancel requests for cards."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli import output, parse
from suanli.cli.context import client
from suanli.cli.errors import CliError
from suanli.exchange.quotes import Quote
from suanli.exchange.schemas import LeaseOut, RequestIn, RequestOut
from suanli.vocab import RequestStatus

app = typer.Typer(help="Requests for accelerator cards (buyers).")

REQUEST_COLUMNS = (
    *(">id", "status", ">cards", "models", "provinces", ">for", ">max per card-h", ">lease"),
    "submitted",
)
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def shape(request: RequestOut) -> str:
    """``16 cards (2 x 8, infiniband)``, ``8 cards (one node)`` or ``4 cards``."""
    if request.cards_per_node is None:
        fabric = f" (over nodes linked by {request.inter_node} if need be)"
        return f"{request.cards} cards" + (fabric if request.inter_node else "")
    if request.cards_per_node == request.cards:
        return f"{request.cards} cards (one node)"
    nodes = request.cards // request.cards_per_node
    fabric = f", {request.inter_node}" if request.inter_node else ""
    return f"{request.cards} cards ({nodes} x {request.cards_per_node}{fabric})"


def show_request(request: RequestOut, lease: LeaseOut | None = None) -> None:
    pairs: list[tuple[str, object]] = [
        ("status", output.status(request.status)),
        ("shape", shape(request)),
        ("models", output.joined(request.accepted_models)),
        ("provinces", output.joined(request.provinces)),
        ("duration", output.duration(request.duration_s)),
        ("max price", output.per_card_hour(request.max_price_fen)),
    ]
    if request.min_memory_gb is not None:
        pairs.append(("min memory", f"{request.min_memory_gb} GB"))
    if request.min_tflops is not None:
        pairs.append(("min TFLOPS", request.min_tflops))
    if request.earliest_start is not None:
        pairs.append(("not before", output.when(request.earliest_start)))
    if request.interruptible:
        pairs.append(("interruptible", "yes"))
    pairs.append(("lease", request.lease_id))
    if lease is not None:
        pairs.extend(
            [
                ("placed at", f"center {lease.center_id}, pool {lease.pool_id} ({lease.model})"),
                ("price", output.per_card_hour(lease.price_fen)),
                ("escrow held", output.money(lease.hold_fen)),
            ]
        )
    pairs += [
        ("submitted", output.when(request.created_at)),
        ("updated", output.when(request.updated_at)),
    ]
    output.details(f"request {request.id}", pairs)
    if request.status is RequestStatus.QUEUED or request.reasons:
        output.bullets(
            "why it waits" if request.status is RequestStatus.QUEUED else "reasons", request.reasons
        )
    output.bullets("nearest offers", request.nearest)


Cards = Annotated[int, typer.Option("--cards", help="Number of accelerator cards.")]
Hours = Annotated[float | None, typer.Option("--hours", help="How long, in hours.")]
DurationS = Annotated[int | None, typer.Option("--duration-s", help="How long, in seconds.")]
Models = Annotated[
    list[str] | None,
    typer.Option("--model", help="An accepted accelerator model (repeatable; default any)."),
]
CardsPerNode = Annotated[
    int | None,
    typer.Option(
        "--cards-per-node",
        help="Gang: this many cards on each node (default: the exchange spreads a request "
        "larger than any node over nodes of one pool).",
    ),
]
Inter = Annotated[
    str | None,
    typer.Option("--inter", help="Fabric between nodes, at least: ethernet|roce|infiniband"),
]
MinMemory = Annotated[int | None, typer.Option("--min-memory-gb", help="Memory per card, GB.")]
MinTflops = Annotated[str | None, typer.Option("--min-tflops", help="Dense FP16 TFLOPS per card.")]
Provinces = Annotated[
    list[str] | None, typer.Option("--province", help="Allowed province (repeatable).")
]
Regions = Annotated[list[str] | None, typer.Option("--region", help="Allowed region (repeatable).")]
MaxPrice = Annotated[str | None, typer.Option("--max-price", help="Yuan per card-hour at most.")]
Start = Annotated[
    str | None, typer.Option("--start", help="Not before this ISO 8601 time (UTC if no zone).")
]
Interruptible = Annotated[
    bool, typer.Option("--interruptible", help="May be preempted by on-demand work.")
]


def request_in(
    cards: int,
    hours: float | None,
    duration_s: int | None,
    models: list[str] | None,
    cards_per_node: int | None,
    inter: str | None,
    min_memory_gb: int | None,
    min_tflops: str | None,
    provinces: list[str] | None,
    regions: list[str] | None,
    max_price: str | None,
    start: str | None,
    interruptible: bool,
) -> RequestIn:
    """The request the options describe (one-line errors naming the option)."""
    return RequestIn(
        cards=parse.at_least(cards, 1, "--cards"),
        cards_per_node=parse.optional_at_least(cards_per_node, 1, "--cards-per-node"),
        inter_node=inter,
        accepted_models=models or [],
        min_memory_gb=parse.optional_at_least(min_memory_gb, 1, "--min-memory-gb"),
        min_tflops=parse.optional_decimal(min_tflops, "--min-tflops"),
        provinces=provinces or [],
        regions=regions or [],
        max_price_fen=parse.optional_fen(max_price, "--max-price"),
        duration_s=parse.duration_s(hours, duration_s),
        earliest_start=parse.optional_instant(start, "--start"),
        interruptible=interruptible,
    )


@app.command("submit")
def submit(
    cards: Cards,
    hours: Hours = None,
    duration_s: DurationS = None,
    models: Models = None,
    cards_per_node: CardsPerNode = None,
    inter: Inter = None,
    min_memory_gb: MinMemory = None,
    min_tflops: MinTflops = None,
    provinces: Provinces = None,
    regions: Regions = None,
    max_price: MaxPrice = None,
    start: Start = None,
    interruptible: Interruptible = False,
    as_json: Json = False,
) -> None:
    """Ask for cards: placed at once if they fit, else queued with the reasons."""
    body = request_in(
        *(cards, hours, duration_s, models, cards_per_node, inter, min_memory_gb, min_tflops),
        *(provinces, regions, max_price, start, interruptible),
    )
    with client() as api:
        request = api.submit_request(body)
        lease = api.get_lease(request.lease_id) if request.lease_id and not as_json else None
    if as_json:
        output.emit_json(request)
    else:
        show_request(request, lease)


@app.command("quote")
def quote(
    cards: Cards,
    hours: Hours = None,
    duration_s: DurationS = None,
    models: Models = None,
    cards_per_node: CardsPerNode = None,
    inter: Inter = None,
    min_memory_gb: MinMemory = None,
    min_tflops: MinTflops = None,
    provinces: Provinces = None,
    regions: Regions = None,
    max_price: MaxPrice = None,
    start: Start = None,
    interruptible: Interruptible = False,
    as_json: Json = False,
) -> None:
    """What `request submit` with the same options would get now: the pool, the price,
    the cost and what your voucher would pay. Nothing is submitted."""
    body = request_in(
        *(cards, hours, duration_s, models, cards_per_node, inter, min_memory_gb, min_tflops),
        *(provinces, regions, max_price, start, interruptible),
    )
    with client() as api:
        found = api.quote(body)
    if as_json:
        output.emit_json(found)
    else:
        show_quote(found)


def show_quote(found: Quote) -> None:
    shape = f"{found.cards} cards for {output.duration(found.duration_s)}"
    if not found.placeable:
        output.details(f"quote: {shape}", [("placeable", "no, it would wait")])
        output.bullets("why it would wait", found.reasons)
        output.bullets("nearest offers", found.nearest)
        return
    pairs: list[tuple[str, object]] = [
        ("placeable", "yes, preempting interruptible work" if found.preempts else "yes"),
        ("where", f"{found.center} ({found.province}), pool {found.pool_id}, {found.model}"),
        ("price", output.per_card_hour(found.price_fen)),
        ("cost", output.money(found.cost_fen)),
        ("voucher", output.money(found.voucher_fen)),
        ("after voucher", output.money(found.cost_after_voucher_fen)),
        ("voucher note", found.voucher_note),
        ("wallet", output.money(found.wallet_fen)),
    ]
    if found.wallet_covers is False:
        pairs.append(("note", "the wallet cannot cover the escrow: a submission would wait"))
    output.details(f"quote: {shape}", pairs)


@app.command("list")
def list_requests(
    request_status: Annotated[
        RequestStatus | None, typer.Option("--status", help="Only this status.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 200,
    as_json: Json = False,
) -> None:
    """List your requests (all, for the operator), newest first."""
    with client() as api:
        found = api.list_requests(request_status, parse.at_least(limit, 1, "--limit"))
    found.sort(key=lambda r: r.id, reverse=True)
    if as_json:
        output.emit_json(found)
        return
    output.table(
        REQUEST_COLUMNS,
        [
            (
                r.id,
                output.status(r.status),
                r.cards,
                output.joined(r.accepted_models),
                output.joined(r.provinces),
                output.duration(r.duration_s),
                output.money(r.max_price_fen),
                r.lease_id,
                output.when(r.created_at),
            )
            for r in found
        ],
    )


@app.command("show")
def show(
    request_id: Annotated[int, typer.Argument(metavar="REQUEST_ID", help="Request id.")],
    as_json: Json = False,
) -> None:
    """Show a request, with its reasons and nearest offers while it waits."""
    with client() as api:
        request = api.get_request(request_id)
    if as_json:
        output.emit_json(request)
    else:
        show_request(request)


@app.command("cancel")
def cancel(
    request_id: Annotated[int, typer.Argument(metavar="REQUEST_ID", help="Request id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the request).")] = "",
    as_json: Json = False,
) -> None:
    """Withdraw a request; a live lease ends and only metered use is charged."""
    if len(reason) > 500:
        raise CliError("--reason is limited to 500 characters")
    with client() as api:
        request = api.cancel_request(request_id, reason)
    if as_json:
        output.emit_json(request)
    else:
        show_request(request)
