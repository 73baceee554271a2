"""Invoices (issue 11, part 8): per organisation and month, or per purchase; numbered without gaps per
seller (``INV-YYYY-NNNNNN``), frozen once issued (asking again answers the same rows), rendered as PDF
(fpdf2, Noto Sans from a pinned PyPI package so "€" prints), CSV, and EN 16931 CII XML (drafthorse)
when the seller is in the EU. Corrections would be credit notes, never edits."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.directory import OrgRef, org_id_for_slug, orgs_by_ids
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.errors import ConflictError, NotFoundError, ValidationError
from valuechain.core.ids import new_id
from valuechain.market.ledger import MICROS, format_amount
from valuechain.market.models import Charge, Invoice
from valuechain.registry.manifest import EU_COUNTRIES


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    id: str
    number: str
    seller: OrgRef
    buyer: OrgRef
    scope: str
    currency: str
    total: int
    lines: list[dict[str, object]]
    issued_at: datetime

    @property
    def seller_in_eu(self) -> bool:
        return self.seller.country in EU_COUNTRIES


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        year, mon = (int(x) for x in month.split("-"))
        start = datetime(year, mon, 1, tzinfo=UTC)
        end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=UTC)
    except ValueError:
        raise ValidationError(f"month `{month}` is not YYYY-MM") from None
    return start, end


def issue_monthly(
    session: Session, org_slug: str, month: str, *, principal: Principal, seller: str | None = None
) -> list[InvoiceRecord]:
    """The month's invoices to ``org_slug``, one per seller it bought from (issued on first request)."""
    buyer_id = _readable_org(session, org_slug, principal)
    start, end = _month_bounds(month)
    if end > utcnow():
        raise ConflictError(f"{month} is not over yet; a monthly invoice is issued once the month has ended")
    stmt = select(Charge).where(
        Charge.buyer_org_id == buyer_id,
        Charge.created_at >= start,
        Charge.created_at < end,
        Charge.amount > 0,
    )
    if seller:
        stmt = stmt.where(Charge.seller_org_id == (org_id_for_slug(session, seller) or ""))
    charges = list(session.scalars(stmt.order_by(Charge.created_at, Charge.id)))
    by_seller: dict[str, list[Charge]] = {}
    for charge in charges:
        by_seller.setdefault(charge.seller_org_id, []).append(charge)
    return [
        _issue(session, seller_id, buyer_id, f"month:{month}", rows, principal=principal)
        for seller_id, rows in sorted(by_seller.items())
    ]


def issue_for_charge(session: Session, charge_id: str, *, principal: Principal) -> InvoiceRecord:
    """The invoice of one purchase or renewal (its buyer, its seller or the operator may ask)."""
    authorize(principal, Action.usage_read)
    charge = session.get(Charge, charge_id)
    if charge is None or not (
        principal.is_operator or principal.org_id in (charge.buyer_org_id, charge.seller_org_id)
    ):
        raise NotFoundError(f"charge {charge_id} not found")
    return _issue(
        session,
        charge.seller_org_id,
        charge.buyer_org_id,
        f"charge:{charge.id}",
        [charge],
        principal=principal,
    )


def _readable_org(session: Session, slug: str, principal: Principal) -> str:
    authorize(principal, Action.usage_read)
    org_id = org_id_for_slug(session, slug)
    if org_id is None or not (principal.is_operator or principal.org_id == org_id):
        raise NotFoundError(f"organisation `{slug}` not found")
    return org_id


def _issue(
    session: Session,
    seller_id: str,
    buyer_id: str,
    scope: str,
    charges: list[Charge],
    *,
    principal: Principal,
) -> InvoiceRecord:
    existing = _find(session, seller_id, buyer_id, scope)
    if existing is not None:
        return _record(session, existing)  # immutable: the frozen rows, whatever happened since
    currencies = {c.currency for c in charges}
    if len(currencies) != 1:
        raise ConflictError(
            "an invoice holds one currency; these charges mix " + ", ".join(sorted(currencies))
        )
    lines = [
        {
            "charge": c.id,
            "date": c.created_at.date().isoformat(),
            "description": c.description,
            "amount": c.amount,
        }
        for c in charges
    ]
    for _ in range(5):  # two issuers at once: the loser of the unique number takes the next one
        number = (
            session.scalar(select(func.max(Invoice.number)).where(Invoice.seller_org_id == seller_id)) or 0
        ) + 1
        invoice = Invoice(
            id=new_id("inv"),
            seller_org_id=seller_id,
            buyer_org_id=buyer_id,
            number=number,
            scope=scope,
            currency=currencies.pop() if len(currencies) == 1 else charges[0].currency,
            total=sum(c.amount for c in charges),
            lines=lines,
            issued_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(invoice)
        except IntegrityError:
            existing = _find(session, seller_id, buyer_id, scope)
            if existing is not None:
                return _record(session, existing)
            continue
        record_event(
            session,
            actor=principal.actor,
            org_id=seller_id,
            action="invoice.issue",
            subject_type="invoice",
            subject_id=invoice.id,
            after={"number": _number(invoice), "total": invoice.total, "scope": scope},
        )
        return _record(session, invoice)
    raise ConflictError("could not number the invoice; retry")


def _find(session: Session, seller_id: str, buyer_id: str, scope: str) -> Invoice | None:
    return session.scalar(
        select(Invoice).where(
            Invoice.seller_org_id == seller_id, Invoice.buyer_org_id == buyer_id, Invoice.scope == scope
        )
    )


def _number(invoice: Invoice) -> str:
    return f"INV-{invoice.issued_at.year}-{invoice.number:06d}"


def _record(session: Session, invoice: Invoice) -> InvoiceRecord:
    orgs = orgs_by_ids(session, {invoice.seller_org_id, invoice.buyer_org_id})
    return InvoiceRecord(
        id=invoice.id,
        number=_number(invoice),
        seller=orgs[invoice.seller_org_id],
        buyer=orgs[invoice.buyer_org_id],
        scope=invoice.scope,
        currency=invoice.currency,
        total=invoice.total,
        lines=list(invoice.lines),
        issued_at=invoice.issued_at,
    )


def _decimal(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS).quantize(Decimal("0.01"))


def render_csv(invoice: InvoiceRecord) -> bytes:
    """One row per line, then the total; amounts as decimals in the invoice's currency."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["invoice", "seller", "buyer", "date", "description", "charge", "amount", "currency"])
    for line in invoice.lines:
        writer.writerow(
            [
                invoice.number,
                invoice.seller.slug,
                invoice.buyer.slug,
                line["date"],
                line["description"],
                line["charge"],
                _decimal(int(line["amount"])),
                invoice.currency,
            ]  # type: ignore[call-overload]
        )
    writer.writerow(
        [
            invoice.number,
            invoice.seller.slug,
            invoice.buyer.slug,
            "",
            "total",
            "",
            _decimal(invoice.total),
            invoice.currency,
        ]
    )
    return buf.getvalue().encode()


def _font() -> Path:
    import fontpkg_noto_sans  # type: ignore[import-untyped]

    return Path(fontpkg_noto_sans.__file__).parent / "files" / "NotoSans[wdth,wght].ttf"


def _money(micros: int, currency: str) -> str:
    return f"{_decimal(micros)} €" if currency == "EUR" else format_amount(micros, currency)


def render_pdf(invoice: InvoiceRecord) -> bytes:
    """A one-page A4 invoice; with an EU seller the EN 16931 XML is embedded too (Factur-X style)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_creation_date(invoice.issued_at)
    pdf.add_page()
    pdf.add_font("Noto", "", str(_font()))
    pdf.set_font("Noto", size=16)
    pdf.cell(text=f"Invoice {invoice.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", size=10)
    for label, org in (("From", invoice.seller), ("To", invoice.buyer)):
        pdf.cell(text=f"{label}: {org.name} ({org.slug}), {org.country}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(text=f"Issued: {invoice.issued_at:%Y-%m-%d}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(
        col_widths=(25, 110, 40), text_align=("LEFT", "LEFT", "RIGHT"), headings_style=FontFace(emphasis=None)
    ) as table:
        table.row(["Date", "Description", "Amount"])
        for line in invoice.lines:
            table.row(
                [str(line["date"]), str(line["description"]), _money(int(line["amount"]), invoice.currency)]
            )  # type: ignore[call-overload]
        table.row(["", "Total", _money(invoice.total, invoice.currency)])
    if invoice.seller_in_eu:
        pdf.embed_file(basename="factur-x.xml", bytes=render_xml(invoice), desc="EN 16931 invoice")
    return bytes(pdf.output())


def render_xml(invoice: InvoiceRecord) -> bytes:
    """The EN 16931 (Factur-X / ZUGFeRD profile EN16931) CII XML; only for sellers in the EU."""
    if not invoice.seller_in_eu:
        raise ConflictError(f"the seller {invoice.seller.slug} is not in the EU: no EN 16931 invoice applies")
    from drafthorse.models.document import Document
    from drafthorse.models.tradelines import LineItem

    doc = Document()
    doc.context.guideline_parameter.id = "urn:cen.eu:en16931:2017"
    doc.header.id = invoice.number
    doc.header.type_code = "380"
    doc.header.issue_date_time = invoice.issued_at.date()
    agreement = doc.trade.agreement
    agreement.seller.name = invoice.seller.name
    agreement.seller.address.country_id = invoice.seller.country
    agreement.buyer.name = invoice.buyer.name
    agreement.buyer.address.country_id = invoice.buyer.country
    settlement = doc.trade.settlement
    settlement.currency_code = invoice.currency
    settlement.payment_means.type_code = "30"
    for index, line in enumerate(invoice.lines, start=1):
        amount = _decimal(int(line["amount"]))  # type: ignore[call-overload]
        item = LineItem()
        item.document.line_id = str(index)
        item.product.name = str(line["description"])
        item.agreement.net.amount = amount
        item.agreement.net.basis_quantity = (Decimal("1"), "C62")
        item.delivery.billed_quantity = (Decimal("1"), "C62")
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = "AE"  # reverse charge: B2B inside the EU [ours]
        item.settlement.trade_tax.rate_applicable_percent = Decimal("0")
        item.settlement.monetary_summation.total_amount = amount
        doc.trade.items.add(item)
    total = _decimal(invoice.total)
    from drafthorse.models.accounting import ApplicableTradeTax

    tax = ApplicableTradeTax()
    tax.calculated_amount = Decimal("0.00")
    tax.basis_amount = total
    tax.type_code = "VAT"
    tax.category_code = "AE"
    tax.exemption_reason = "Reverse charge"
    tax.rate_applicable_percent = Decimal("0")
    settlement.trade_tax.add(tax)
    summary = settlement.monetary_summation
    summary.line_total = total
    summary.charge_total = Decimal("0.00")
    summary.allowance_total = Decimal("0.00")
    summary.tax_basis_total = total
    summary.tax_total = (Decimal("0.00"), invoice.currency)
    summary.grand_total = total
    summary.due_amount = total
    return bytes(doc.serialize(schema="FACTUR-X_EN16931"))


def render(invoice: InvoiceRecord, fmt: str) -> bytes:
    """The invoice as ``pdf``, ``csv`` or ``xml``."""
    renderers = {"pdf": render_pdf, "csv": render_csv, "xml": render_xml}
    if fmt not in renderers:
        raise ValidationError("format is pdf, csv or xml")
    return renderers[fmt](invoice)


def single(issued: list[InvoiceRecord]) -> InvoiceRecord:
    """The one invoice asked for (404 when nothing was bought, 409 naming the sellers when several)."""
    if not issued:
        raise NotFoundError("nothing was bought in that period: no invoice")
    if len(issued) > 1:
        sellers = ", ".join(i.seller.slug for i in issued)
        raise ConflictError(f"the period has invoices from several sellers ({sellers}); name one with seller")
    return issued[0]
