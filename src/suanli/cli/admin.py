"""``suanli admin ...``: set up a database and its organizations and keys, directly.

These commands open the database themselves (``--db``, else ``$SUANLI_DATABASE_URL``,
else a SQLite file in the user data directory); they need no server and no API key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from suanli.cli import output
from suanli.cli.errors import CliError
from suanli.cli.parse import parse_date
from suanli.kit.clock import SystemClock
from suanli.orgs.schemas import KeyOut, OrgOut
from suanli.vocab import OrgRole

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from suanli.store import Database
    from suanli.store.models import Organization

# The database layer is imported by the commands that use it, not with this module:
# ``suanli whoami`` shows an organization with show_org and needs none of it.

OPERATOR_NAME = "suanli operator"

app = typer.Typer(help="Set up the exchange's database, organizations and keys (no server).")

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $SUANLI_DATABASE_URL, else a SQLite file in the user "
        "data directory).",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@contextmanager
def database(url: str | None, *, migrate: bool = False) -> Iterator[Database]:
    """The database at ``url``, disposed of afterwards."""
    from suanli.store import Database

    db = Database(url)
    try:
        if migrate:
            db.migrate()
        yield db
    finally:
        db.dispose()


def safe_url(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def find_org(session: Session, ident: str) -> Organization:
    """An organization by id or exact name."""
    from suanli.store import orgs_repo

    org = orgs_repo.by_id(session, int(ident)) if ident.isdigit() else None
    org = org or orgs_repo.by_name(session, ident)
    if org is None:
        raise CliError(f"no organization with id or name {ident!r}")
    return org


def show_org(org: OrgOut) -> None:
    output.details(
        f"organization {org.id}",
        [
            ("name", org.name),
            ("name (zh)", org.name_zh),
            ("role", org.role),
            ("province", org.province),
            ("city", org.city),
            ("kind", org.kind),
            ("industry", org.industry),
            ("founded", org.founded_on.isoformat() if org.founded_on else None),
            ("group", org.group_name),
            ("owners", ", ".join(org.owners) or None),
            ("created", output.when(org.created_at)),
        ],
    )


@app.command("init")
def init(db_url: DbUrl = None, as_json: Json = False) -> None:
    """Migrate the database and create the operator organization with a first key."""
    from suanli.orgs.service import create_key, create_org
    from suanli.store import orgs_repo

    clock = SystemClock()
    with database(db_url, migrate=True) as db, db.transaction() as session:
        operators = orgs_repo.listing(session, OrgRole.OPERATOR)
        secret: str | None = None
        if operators:
            org = operators[0]
        else:
            org = create_org(session, clock, name=OPERATOR_NAME, role=OrgRole.OPERATOR)
            secret = create_key(session, clock, org.id, "admin init").secret
        out = OrgOut.of(org)
        url = safe_url(db.url)
    if as_json:
        output.emit_json(
            {"database": url, "created": secret is not None, "org": out, "key": secret}
        )
        return
    output.say(f"database ready: {url}")
    if secret is None:
        output.say(
            f"operator organization {out.id} ({out.name}) already exists; "
            f"make a new key with: suanli admin create-key {out.id}"
        )
        return
    output.say(f"created operator organization {out.id} ({out.name})")
    output.say(f"operator API key (shown once, store it safely): {secret}")
    output.say(f"save it with: suanli profile set operator --key {secret}")


@app.command("create-org")
def create_org_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The organization's name (unique).")],
    role: Annotated[OrgRole, typer.Option("--role", help="What it does on the exchange.")],
    name_zh: Annotated[str | None, typer.Option("--name-zh", help="Chinese name.")] = None,
    province: Annotated[str | None, typer.Option("--province", help="e.g. 贵州 or Guizhou")] = None,
    city: Annotated[str | None, typer.Option("--city")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="sme, startup, lab, ...")] = None,
    industry: Annotated[str | None, typer.Option("--industry")] = None,
    founded: Annotated[
        str | None, typer.Option("--founded", help="founding date, YYYY-MM-DD")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="corporate group (related parties)")
    ] = None,
    owner: Annotated[
        list[str] | None, typer.Option("--owner", help="beneficial owner; repeat for several")
    ] = None,
    db_url: DbUrl = None,
    as_json: Json = False,
) -> None:
    """Create an organization (buyer, provider, issuer or operator)."""
    from suanli.orgs.service import create_org

    with database(db_url) as db, db.transaction() as session:
        org = create_org(
            session,
            SystemClock(),
            name=name,
            role=role,
            name_zh=name_zh,
            province=province,
            city=city,
            kind=kind,
            industry=industry,
            founded_on=parse_date(founded, "--founded"),
            group_name=group,
            owners=owner or [],
        )
        out = OrgOut.of(org)
    if as_json:
        output.emit_json(out)
    else:
        show_org(out)


@app.command("create-key")
def create_key_command(
    org: Annotated[str, typer.Argument(metavar="ORG", help="The organization's id or exact name.")],
    label: Annotated[str, typer.Option("--label", help="A note to tell keys apart.")] = "",
    db_url: DbUrl = None,
    as_json: Json = False,
) -> None:
    """Issue a new API key for an organization; the key is shown once."""
    from suanli.orgs.service import create_key

    with database(db_url) as db, db.transaction() as session:
        found = find_org(session, org)
        issued = create_key(session, SystemClock(), found.id, label)
        out = KeyOut(id=issued.id, org_id=found.id, key=issued.secret)
        name = found.name
    if as_json:
        output.emit_json(out)
        return
    output.say(f"API key {out.id} for organization {out.org_id} ({name}), shown once:")
    output.say(out.key)


@app.command("list-orgs")
def list_orgs(
    role: Annotated[OrgRole | None, typer.Option("--role", help="Only this role.")] = None,
    db_url: DbUrl = None,
    as_json: Json = False,
) -> None:
    """List organizations."""
    from suanli.store import orgs_repo

    with database(db_url) as db, db.transaction() as session:
        orgs = [OrgOut.of(o) for o in orgs_repo.listing(session, role)]
    if as_json:
        output.emit_json(orgs)
        return
    output.table(
        [">id", "name", "role", "province", "city", "kind", "created"],
        [
            (o.id, o.name, o.role, o.province, o.city, o.kind, output.when(o.created_at))
            for o in orgs
        ],
    )
