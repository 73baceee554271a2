"""``valuechain credits``, ``valuechain market``, ``valuechain trace`` and ``valuechain invoice``: the
commercial channels of issue 11 (credits, listings, purchases, hires, traceable copies, invoices)."""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import plural, say, table
from valuechain.core.errors import ConflictError, NotFoundError, ValidationError
from valuechain.core.settings import Settings
from valuechain.market import credits as credit_service
from valuechain.market import invoices, listings, purchases, sales
from valuechain.market.copies import SigningKey, StampedCopy, verify_manifest

credits_app = typer.Typer(
    help="Credits: the operator grants them; an organisation reads its balance.", no_args_is_help=True
)
app = typer.Typer(
    help="The marketplace: listings, purchases, hires, licences and traceable copies.", no_args_is_help=True
)
MICROS = Decimal(1_000_000)


def _micros(amount: str) -> int:
    """``12.50`` (in the currency's units) → micro-units."""
    try:
        value = Decimal(amount) * MICROS
    except InvalidOperation:
        raise ValidationError(f"`{amount}` is not an amount") from None
    if value != value.to_integral_value():
        raise ValidationError(f"`{amount}` has more than six decimals")
    return int(value)


@credits_app.command("grant")
def grant(
    org: str = typer.Argument(..., help="The organisation's slug."),
    amount: str = typer.Argument(..., help="How much, in units of the currency (e.g. 25 or 12.50)."),
    currency: str = typer.Option("EUR", help="ISO 4217 code."),
    key: str = typer.Option(None, "--key", help="Idempotency key: a retry with the same key grants once."),
    memo: str = typer.Option("", help="Why (shown on the ledger line)."),
    fmt: Format = FormatOption,
) -> None:
    """Grant credits to an organisation's wallet (operator)."""
    with database() as db, db.unit_of_work() as session:
        result = credit_service.grant(
            session,
            org,
            _micros(amount),
            principal=acting(session, None),
            idempotency_key=key or uuid.uuid4().hex,
            memo=memo,
            currency=currency,
        )
    emit(
        asdict(result), fmt, lambda r: say(err, f"{org}: balance {Decimal(r['balance']) / MICROS} {currency}")
    )


@credits_app.command("show")
def show(
    as_org: str = typer.Option(..., "--as", help="The organisation (slug)."), fmt: Format = FormatOption
) -> None:
    """An organisation's balance and its latest ledger lines."""
    with database() as db, db.session() as session:
        statement = credit_service.balance(session, principal=acting(session, as_org))

    def human(data: dict[str, Any]) -> None:
        rows = [(x["at"], x["kind"], x["memo"], str(Decimal(x["amount"]) / MICROS)) for x in data["lines"]]
        out.print(table(("at", "kind", "memo", "amount"), rows))
        say(err, f"balance {Decimal(data['balance']) / MICROS} {data['currency']}")

    emit(asdict(statement), fmt, human)


def _listing_rows(rows: list[dict[str, Any]]) -> None:
    cells = [
        (r["id"], r["kind"], r["title"], r["model"], r["seller"], r["price_text"], r["status"]) for r in rows
    ]
    out.print(table(("id", "kind", "title", "model", "seller", "price", "status"), cells, ids=("id",)))
    say(err, plural(len(rows), "listing"))


@app.command("list")
def list_(
    kind: str = typer.Option(None, help="sale, subscription, hire, white_label, kit or maintenance."),
    seller: str = typer.Option(None, help="Only this seller (slug)."),
    q: str = typer.Option(None, "--search", "-q", help="Text in the title or description."),
    max_price: str = typer.Option(None, help="Highest price, in units of the currency."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Search the catalogue."""
    with database() as db, db.session() as session:
        rows = listings.search_listings(
            session,
            principal=acting(session, as_org),
            fee_bps=Settings().market_fee_bps,
            kind=kind,
            seller=seller,
            query=q,
            max_price=_micros(max_price) if max_price else None,
        )
    emit([asdict(r) for r in rows], fmt, _listing_rows)


def _share(text: str) -> listings.Share:
    org, _, bps = text.partition(":")
    if not bps.isdigit():
        raise ValidationError(f"share `{text}` is not ORG:BPS (e.g. acme:500 for 5 %)")
    return listings.Share(org=org, bps=int(bps))


@app.command("create")
def create(
    offer: str = typer.Argument(..., help="The offer to list (off_…), one your organisation makes."),
    kind: str = typer.Option(..., help="sale, subscription, hire, white_label, kit or maintenance."),
    title: str = typer.Option(..., help="What the catalogue shows."),
    price: str = typer.Option(..., help="Per purchase or per period, in units of the currency."),
    licence: str = typer.Option(..., help="Licence id or name."),
    period: int = typer.Option(None, help="Seconds per hire or subscription period."),
    stock: int = typer.Option(None, help="How many may be sold (default unlimited)."),
    terms: str = typer.Option("", help="Terms the buyer accepts."),
    description: str = typer.Option("", help="Longer text."),
    currency: str = typer.Option("EUR"),
    share: list[str] = typer.Option([], help="Upstream revenue share ORG:BPS (repeatable)."),
    as_org: str = typer.Option(..., "--as", help="The seller (slug)."),
    fmt: Format = FormatOption,
) -> None:
    """List an offer in the marketplace."""
    data = listings.ListingCreate(
        offer=offer,
        kind=kind,  # type: ignore[arg-type]
        title=title,
        description=description,
        currency=currency,
        price=_micros(price),
        period_seconds=period,
        stock=stock,
        licence=licence,
        terms=terms,
        shares=[_share(s) for s in share],
    )
    with database() as db, db.unit_of_work() as session:
        record = listings.create_listing(
            session, data, principal=acting(session, as_org), fee_bps=Settings().market_fee_bps
        )
    emit(asdict(record), fmt, lambda r: say(err, f"listed {r['id']}: {r['title']} at {r['price_text']}"))


def _listing_id(session: Any, ref: str, principal: Any) -> str:
    """A listing id, or the one buyable listing of an offer id."""
    if not ref.startswith("off_"):
        return ref
    rows = [
        r
        for r in listings.search_listings(session, principal=principal, fee_bps=0, limit=500)
        if r.offer == ref and r.kind in purchases.BUYABLE
    ]
    if not rows:
        raise NotFoundError(f"offer {ref} has no listing you can buy")
    if len(rows) > 1:
        raise ConflictError(f"offer {ref} has several listings ({', '.join(r.id for r in rows)}); name one")
    return rows[0].id


def _licence_line(r: dict[str, Any]) -> None:
    until = f", until {r['expires_at']}" if r["expires_at"] else ", perpetual"
    say(err, f"licence {r['id']} ({r['kind']}) from {r['seller']}{until}")


@app.command("buy")
def buy(
    listing: str = typer.Argument(..., help="The listing (lst_…) or the offer (off_…) to buy."),
    as_org: str = typer.Option(..., "--as", help="The buyer (slug)."),
    price: str = typer.Option(None, help="The price you agree to; refused if the listing's price changed."),
    key: str = typer.Option(None, "--key", help="Idempotency key: a retry with the same key buys once."),
    auto_renew: bool = typer.Option(False, help="Subscriptions: renew at each period's end."),
    fmt: Format = FormatOption,
) -> None:
    """Buy a listing: pays from the wallet and grants its licence."""
    with database() as db, db.unit_of_work() as session:
        principal = acting(session, as_org)
        record = purchases.buy(
            session,
            _listing_id(session, listing, principal),
            principal=principal,
            fee_bps=Settings().market_fee_bps,
            idempotency_key=key or uuid.uuid4().hex,
            expected_price=_micros(price) if price else None,
            auto_renew=auto_renew,
        )
    emit(asdict(record), fmt, _licence_line)


@app.command("renew")
def renew(
    licence: str = typer.Argument(..., help="The licence (lic_…)."),
    as_org: str = typer.Option(..., "--as", help="The buyer (slug)."),
    key: str = typer.Option(None, "--key", help="Idempotency key."),
    fmt: Format = FormatOption,
) -> None:
    """Pay one more period of a hire or subscription."""
    with database() as db, db.unit_of_work() as session:
        record = purchases.renew(
            session,
            licence,
            principal=acting(session, as_org),
            fee_bps=Settings().market_fee_bps,
            idempotency_key=key or uuid.uuid4().hex,
        )
    emit(asdict(record), fmt, _licence_line)


@app.command("cancel")
def cancel(
    licence: str = typer.Argument(..., help="The licence (lic_…)."),
    as_org: str = typer.Option(..., "--as", help="The buyer (slug)."),
    fmt: Format = FormatOption,
) -> None:
    """Stop a hire or subscription renewing; access lasts to the end of the paid period."""
    with database() as db, db.unit_of_work() as session:
        record = purchases.cancel(session, licence, principal=acting(session, as_org))
    emit(asdict(record), fmt, _licence_line)


@app.command("renew-due")
def renew_due(fmt: Format = FormatOption) -> None:
    """Renew every auto-renewing subscription whose period ended (operator; run it from cron)."""
    with database() as db, db.unit_of_work() as session:
        acting(session, None)  # the local operator
        count = purchases.renew_due(session, fee_bps=Settings().market_fee_bps)
    emit({"renewed": count}, fmt, lambda r: say(err, plural(r["renewed"], "subscription") + " renewed"))


@app.command("licences")
def licences(
    side: str = typer.Option("buyer", help="buyer: what the organisation bought; seller: what it sold."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Licences bought or sold."""
    with database() as db, db.session() as session:
        rows = purchases.list_licences(session, principal=acting(session, as_org), side=side)

    def human(data: list[dict[str, Any]]) -> None:
        cells = [
            (r["id"], r["kind"], r["buyer"], r["seller"], r["expires_at"] or "never", r["is_active"])
            for r in data
        ]
        out.print(table(("id", "kind", "buyer", "seller", "expires", "active"), cells, ids=("id",)))

    emit([asdict(r) for r in rows], fmt, human)


def _blob_path() -> sales.BlobPath:
    from valuechain.hub.storage import open_blob_store

    store = open_blob_store(Settings())

    def path(sha256: str) -> Path:
        local = store.local_path(sha256)
        if local is None:
            raise NotFoundError(f"blob {sha256} is not on this machine; download over the API instead")
        return Path(local)

    return path


@app.command("download")
def download(
    licence: str = typer.Argument(..., help="The licence (lic_…)."),
    path: str = typer.Argument(..., help="The file's path in the model version."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write your copy."),
    as_org: str = typer.Option(..., "--as", help="The buyer (slug)."),
    fmt: Format = FormatOption,
) -> None:
    """Write your own traceable copy of a bought file."""
    with database() as db, db.unit_of_work() as session:
        copy, sha = sales.download(
            session, licence, path, principal=acting(session, as_org), blob_path=_blob_path()
        )
        if isinstance(copy, StampedCopy):
            copy.write(output)
        else:
            output.write_bytes(copy.read_bytes())
    emit({"path": str(output), "sha256": sha}, fmt, lambda r: say(err, f"wrote {r['path']} ({r['sha256']})"))


@app.command("manifest")
def manifest(
    licence: str = typer.Argument(..., help="The licence (lic_…)."),
    as_org: str = typer.Option(..., "--as", help="The buyer (slug)."),
) -> None:
    """Print the signed manifest of your copies (JSON)."""
    with database() as db, db.session() as session:
        signed = sales.manifest(
            session,
            licence,
            principal=acting(session, as_org),
            blob_path=_blob_path(),
            key=SigningKey.of_home(Settings().home),
        )
    sys.stdout.write(json.dumps(signed, indent=2) + "\n")


@app.command("verify")
def verify(
    manifest_file: Path = typer.Argument(..., help="The signed manifest (JSON)."),
    file: list[Path] = typer.Option([], "--file", help="A downloaded file to re-hash (repeatable)."),
    public_key: str = typer.Option(None, help="The platform's public key (base64) you trust."),
    fmt: Format = FormatOption,
) -> None:
    """Check a manifest's signature and your files offline (no server, no database)."""
    signed = json.loads(manifest_file.read_text())
    files = {f.name: f.read_bytes() for f in file}
    problems = verify_manifest(signed, public_key_b64=public_key, files=files)
    emit(
        {"ok": not problems, "problems": problems},
        fmt,
        lambda r: say(err, "genuine" if r["ok"] else "; ".join(problems)),
    )
    if problems:
        raise typer.Exit(code=1)


def trace(
    file: Path = typer.Argument(..., help="A weights file found somewhere."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Name the licence, buyer and offer a weights file was sold under (seller or operator)."""
    with database() as db, db.session() as session:
        found = sales.trace(session, file, principal=acting(session, as_org))
    data = asdict(found)
    emit(
        data,
        fmt,
        lambda r: say(err, f"{file.name}: licence {r['licence_id']} sold to {r['buyer']} ({r['offer']})"),
    )


def invoice(
    org: str = typer.Argument(..., help="The buyer (slug)."),
    month: str = typer.Option(None, help="YYYY-MM: the month's invoice."),
    charge: str = typer.Option(None, help="chg_…: the invoice of one purchase instead."),
    seller: str = typer.Option(None, help="The seller, when the month has several."),
    fmt: str = typer.Option("pdf", "--format", "-f", help="pdf, csv or xml (EN 16931, EU sellers)."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here (default: stdout)."),
) -> None:
    """Issue (first time) or reissue an invoice: numbered per seller, immutable once issued."""
    if (month is None) == (charge is None):
        raise ValidationError("name --month or --charge")
    with database() as db, db.unit_of_work() as session:
        principal = acting(session, org)
        if charge:
            issued = invoices.issue_for_charge(session, charge, principal=principal)
        else:
            issued = invoices.single(
                invoices.issue_monthly(session, org, month, principal=principal, seller=seller)
            )
        document = invoices.render(issued, fmt)
    if output is not None:
        output.write_bytes(document)
        say(err, f"invoice {issued.number} → {output}")
    else:
        sys.stdout.buffer.write(document)
