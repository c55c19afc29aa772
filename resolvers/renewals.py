"""Terms ending and starting: renewal pricing, true-up, quarterly reconciliation, expiry.
Used by `subscriptionRenew` and by the daily job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges import (
    Charge,
    ChargeKind,
    Item,
    Term,
    charge_term,
    is_twelve_months,
    quarter_ends,
    reconcile_quarter,
    true_up,
)
from billing.money import Money
from billing.subscriptions import FREE_PLAN, SubscriptionStatus
from billing.terms import BillingPeriod, term_end
from db.ingest import refresh_seat_figures
from db.seats import billable_counts
from db.snapshots import peak_between
from db.subscriptions import add_ons_of
from db.syncs import reported_peak
from db.tables import (
    AddOn,
    AddOnPrice,
    Instance,
    Invoice,
    Namespace,
    Plan,
    Price,
    Subscription,
    SubscriptionAddOn,
)
from resolvers.catalog import price_in_force
from resolvers.changes import (
    SUBSCRIPTION_FIELDS,
    ChargeAtEnd,
    Who,
    issue_invoice,
    record,
    state,
)


@dataclass(frozen=True)
class NextTerm:
    seats: int
    billing_period: BillingPeriod


async def seats_in_use(session: AsyncSession, subscription: Subscription) -> int:
    """Billable users now: counted for a namespace, as last reported by a license sync for an
    instance (none before its first sync)."""
    if subscription.namespace_id is None:
        instance = await session.get(Instance, subscription.instance_id)
        assert instance is not None
        return instance.seats_in_use or 0
    namespace = await session.get(Namespace, subscription.namespace_id)
    assert namespace is not None
    return namespace.seats_in_use


async def seats_in_use_next_term(
    session: AsyncSession, subscription: Subscription, today: date
) -> int:
    """Billable users now under the plan of the next term (a pending downgrade from Ultimate
    to Premium makes guests count): what a renewal's seats must cover."""
    current = await session.get(Plan, subscription.plan_id)
    upcoming = await session.get(Plan, subscription.pending_plan_id or subscription.plan_id)
    assert current is not None
    assert upcoming is not None
    if subscription.namespace_id is None or upcoming.excludes_guests == current.excludes_guests:
        return await seats_in_use(session, subscription)
    [count] = await billable_counts(
        session, [subscription.namespace_id], today=today, excludes_guests=upcoming.excludes_guests
    )
    return count


async def recount(
    session: AsyncSession, namespace: Namespace, subscription: Subscription, today: date
) -> int:
    """Recount the namespace under its subscription's plan (the plan decides whether guests
    take a seat) and return the count; both rows are reloaded."""
    assert namespace.id is not None
    await session.flush()
    await refresh_seat_figures(session, [namespace.id], today=today)
    await session.refresh(namespace)
    await session.refresh(subscription)
    return namespace.seats_in_use


async def price_next_term(
    session: AsyncSession,
    subscription: Subscription,
    next_term: NextTerm,
    *,
    field: str,
    price: Price | None = None,
) -> tuple[Charge, Price, list[tuple[SubscriptionAddOn, AddOnPrice]]]:
    """The renewal charge for the term that starts on the current end date: seats of the
    plan it will be on (a pending downgrade applies), and its add-ons, at the catalog prices in
    force that day (or at `price` when the renewal was bought earlier)."""
    current = await session.get(Price, subscription.price_id)
    assert current is not None
    assert subscription.id is not None
    term = next_term_dates(subscription, next_term.billing_period)
    if price is None:
        plan = await session.get(Plan, subscription.pending_plan_id or subscription.plan_id)
        assert plan is not None
        price = await price_in_force(
            session,
            Price,
            plan,
            currency=current.currency,
            billing_period=next_term.billing_period,
            on=term.start,
            field=field,
        )
    else:
        plan = await session.get(Plan, price.plan_id)
        assert plan is not None
    seat = Item(plan.name, next_term.seats, Money(price.unit_amount, price.currency))
    charge = charge_term(ChargeKind.RENEWAL, [seat], term)
    add_on_prices = []
    for row in await add_ons_of(session, subscription.id):
        add_on = await session.get(AddOn, row.add_on_id)
        assert add_on is not None
        unit = await price_in_force(
            session,
            AddOnPrice,
            add_on,
            currency=current.currency,
            billing_period=next_term.billing_period,
            on=term.start,
            field=field,
        )
        item = Item(add_on.name, row.quantity, Money(unit.unit_amount, unit.currency))
        charge += charge_term(ChargeKind.ADD_ON, [item], term)
        add_on_prices.append((row, unit))
    return charge, price, add_on_prices


def true_up_charge(subscription: Subscription, plan: Plan, price: Price) -> Charge:
    """The annual true-up of the ending term: seats used above those paid, at full price (for
    the days from an upgrade in the term, the days before having been settled by it).
    None with quarterly reconciliation (it charged as it went), or on free and trial plans."""
    if subscription.quarterly_reconciliation or subscription.trial or plan.code == FREE_PLAN:
        return Charge(price.currency, ())
    return true_up(
        subscription.seats,
        subscription.max_seats_used,
        Money(price.unit_amount, price.currency),
        Term(subscription.start_date, subscription.end_date),
        since=subscription.plan_changed_on,
    )


def charge_at_end(subscription: Subscription, plan: Plan, price: Price) -> ChargeAtEnd:
    """What the end date charges a term that expires: its true-up, at the term's price (a
    cancelled term with 12 seats used on 11 paid owes 1 seat)."""
    return ChargeAtEnd(subscription.end_date, true_up_charge(subscription, plan, price))


def next_term_dates(subscription: Subscription, period: BillingPeriod) -> Term:
    """The term after the current one: from its end date to the next end on the anchor day
    (2026-02-28 -> 2026-03-31 for monthly terms first started on 2026-01-31)."""
    anchor = subscription.anchor_day or subscription.start_date.day
    return Term(subscription.end_date, term_end(subscription.end_date, period, anchor))


@dataclass(frozen=True)
class PricedRenewal:
    """The next term of a subscription and what its start charges: the true-up of the
    ending term, and the renewal itself unless it was bought in advance (`bought`)."""

    next_term: NextTerm
    true_up: Charge
    renewal: Charge
    price: Price
    add_on_prices: list[tuple[SubscriptionAddOn, AddOnPrice]]
    bought: bool

    @property
    def charge(self) -> Charge:
        """What the invoice issued when the next term starts holds."""
        return self.true_up if self.bought else self.true_up + self.renewal


async def price_renewal(
    session: AsyncSession,
    subscription: Subscription,
    plan: Plan,
    price: Price,
    next_term: NextTerm,
    *,
    bought: Price | None = None,
) -> PricedRenewal:
    """Price the renewal into `next_term` (at `bought` when it was bought in advance) with
    the ending term's true-up: what `start_next_term` charges, and what `upcoming_renewal`
    shows before."""
    renewal, next_price, add_on_prices = await price_next_term(
        session, subscription, next_term, field="billingPeriod", price=bought
    )
    owed = true_up_charge(subscription, plan, price)
    return PricedRenewal(next_term, owed, renewal, next_price, add_on_prices, bought is not None)


async def upcoming_renewal(
    session: AsyncSession, subscription: Subscription, today: date
) -> PricedRenewal | None:
    """How the term that ends will renew, as things stand `today`: into the renewal bought in
    advance, or automatically with the seats paid for, raised to the users who would take a
    seat under the next term's plan (never fewer: only an explicit `subscriptionRenew` buys
    fewer). None when the subscription will expire instead: not active, a trial, cancelled,
    auto-renewal off, or going to Free."""
    if subscription.status != SubscriptionStatus.ACTIVE or subscription.trial:
        return None
    plan = await session.get(Plan, subscription.plan_id)
    price = await session.get(Price, subscription.price_id)
    assert plan is not None
    assert price is not None
    if subscription.renewal_price_id is not None and subscription.renewal_seats is not None:
        bought = await session.get(Price, subscription.renewal_price_id)
        assert bought is not None
        next_term = NextTerm(subscription.renewal_seats, BillingPeriod(bought.billing_period))
        return await price_renewal(session, subscription, plan, price, next_term, bought=bought)
    if not subscription.auto_renew or subscription.cancelled_on is not None:
        return None
    upcoming = await session.get(Plan, subscription.pending_plan_id or subscription.plan_id)
    assert upcoming is not None
    if upcoming.code == FREE_PLAN:
        return None
    billable = await seats_in_use_next_term(session, subscription, today)
    next_term = NextTerm(max(subscription.seats, billable), BillingPeriod(price.billing_period))
    return await price_renewal(session, subscription, plan, price, next_term)


async def start_next_term(
    session: AsyncSession,
    subscription: Subscription,
    plan: Plan,
    priced: PricedRenewal,
    *,
    today: date,
) -> Charge:
    """Close the ending term (its true-up) and start the next one as `priced`; returns what
    to charge (only the true-up when the renewal was bought in advance)."""
    next_term, next_price = priced.next_term, priced.price
    period = next_term.billing_period
    term = next_term_dates(subscription, period)
    subscription.anchor_day = subscription.anchor_day or subscription.start_date.day
    subscription.start_date, subscription.end_date = term.start, term.end
    subscription.seats = next_term.seats
    subscription.plan_id, subscription.price_id = next_price.plan_id, next_price.id
    subscription.pending_plan_id = None
    subscription.renewal_seats = subscription.renewal_price_id = None
    subscription.quarters_reconciled = 0
    subscription.quarterly_reconciliation &= period is BillingPeriod.ANNUAL
    for row, unit in priced.add_on_prices:
        row.add_on_price_id = unit.id
    billable = await seats_in_use(session, subscription)
    subscription.max_seats_used = max(billable, await _peak_so_far(session, subscription, today))
    new_plan = await session.get(Plan, next_price.plan_id)
    assert new_plan is not None
    if subscription.namespace_id is not None and new_plan.excludes_guests != plan.excludes_guests:
        namespace = await session.get(Namespace, subscription.namespace_id)
        assert namespace is not None
        await recount(session, namespace, subscription, today)
    return priced.charge


async def _peak_so_far(session: AsyncSession, subscription: Subscription, today: date) -> int:
    """The highest count recorded on the days of the (just started) term up to `today`: a term
    the job starts late already had days, and growth on them is the new term's (recorded in the
    day's snapshots or reports while no active term's peak rose). Not the count the term was
    entered with: those users were counted, and any overage charged, in the ending term. A
    recount under the new plan follows where a downgrade changes the guest rule."""
    end = min(today + timedelta(days=1), subscription.end_date)
    if subscription.namespace_id is not None:
        return await peak_between(
            session, subscription.namespace_id, subscription.start_date, end, entering=False
        )
    assert subscription.instance_id is not None
    return await reported_peak(session, subscription.instance_id, subscription.start_date, end)


@dataclass(frozen=True)
class Happened:
    """What the job did to a subscription, and the invoice it issued (numbered at commit)."""

    what: str
    invoice: Invoice | None = None

    def __str__(self) -> str:
        if self.invoice is None:
            return self.what
        amount = Money(self.invoice.total, self.invoice.currency)
        return f"{self.what}: invoice {self.invoice.number} for {amount.amount} {amount.currency}"


async def roll_over(session: AsyncSession, subscription: Subscription, who: Who) -> Happened:
    """The term of this (locked, active) subscription has ended: start the renewal bought in
    advance, renew automatically (see `upcoming_renewal`), or expire, charging the seats owed
    of the ending term (a cancelled term's overage too). Returns what happened."""
    plan = await session.get(Plan, subscription.plan_id)
    price = await session.get(Price, subscription.price_id)
    assert plan is not None
    assert price is not None
    before = state(subscription, SUBSCRIPTION_FIELDS)
    ended = subscription.end_date
    priced = await upcoming_renewal(session, subscription, who.today)
    if priced is None:
        charge = charge_at_end(subscription, plan, price).charge
        subscription.status = SubscriptionStatus.EXPIRED.value
        await session.flush()
        record(session, who, "subscription.expired", subscription, before)
        what = f"subscription {subscription.id}: expired on {ended.isoformat()}"
    else:
        charge = await start_next_term(session, subscription, plan, priced, today=who.today)
        await session.flush()
        record(session, who, "subscription.renewed", subscription, before)
        how = (
            "renewed as bought"
            if priced.bought
            else f"renewed automatically with {priced.next_term.seats} seats"
        )
        what = f"subscription {subscription.id}: {how} from {ended.isoformat()}"
    if not charge.lines:
        return Happened(what)
    return Happened(what, (await issue_invoice(session, who, subscription, charge)).invoice)


async def reconcile_due(
    session: AsyncSession, subscription: Subscription, who: Who
) -> list[Happened]:
    """Reconcile every quarter of the (locked) subscription's term that has ended by today
    (see `reconcile_quarters`), each with its own invoice when seats were over."""
    done = []
    for what, charge in await reconcile_quarters(session, subscription, who):
        invoice = None
        if charge.lines:
            invoice = (await issue_invoice(session, who, subscription, charge)).invoice
        done.append(Happened(what, invoice))
    return done


async def reconcile_quarters(
    session: AsyncSession, subscription: Subscription, who: Who
) -> list[tuple[str, Charge]]:
    """Reconcile every quarter of the (locked) subscription's term that has ended by today:
    the seats used above those paid (the quarter's highest daily count, from the seat
    snapshots, so a job that missed days still sees each quarter's own peak) are charged for
    the rest of the term at the subscription's price, and the seats raised. A self-managed
    instance's peak is the highest count it reported in its license syncs. Returns what was
    done and the charge of each quarter (no lines when nobody was over), for the caller to
    invoice."""
    term = Term(subscription.start_date, subscription.end_date)
    plan = await session.get(Plan, subscription.plan_id)
    price = await session.get(Price, subscription.price_id)
    assert plan is not None
    assert price is not None
    if (
        not subscription.quarterly_reconciliation
        or not is_twelve_months(term)
        or subscription.trial
        or plan.code == FREE_PLAN
    ):
        return []
    ends = quarter_ends(term)
    done = []
    while (
        subscription.quarters_reconciled < 3 and ends[subscription.quarters_reconciled] <= who.today
    ):
        quarter = subscription.quarters_reconciled + 1
        before = state(subscription, SUBSCRIPTION_FIELDS)
        first = term.start if quarter == 1 else ends[quarter - 2]
        changed, entering = subscription.plan_changed_on, True
        if changed is not None and first <= changed < ends[quarter - 1]:
            first, entering = changed, False  # the days before the upgrade were settled then
        if subscription.namespace_id is not None:
            peak = await peak_between(
                session, subscription.namespace_id, first, ends[quarter - 1], entering=entering
            )
        else:
            assert subscription.instance_id is not None
            peak = await reported_peak(session, subscription.instance_id, first, ends[quarter - 1])
        overage, charge = reconcile_quarter(
            quarter, subscription.seats, peak, Money(price.unit_amount, price.currency), term
        )
        subscription.seats += overage
        subscription.quarters_reconciled = quarter
        await session.flush()
        record(session, who, "subscription.reconciled", subscription, before)
        what = f"subscription {subscription.id}: quarter {quarter} reconciled, {overage} seats over"
        done.append((what, charge))
    return done
