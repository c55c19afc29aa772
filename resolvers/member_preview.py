"""Previewing a change of members: would adding these people to a group cost seats, and
how much. Reads only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from billing.charges import Item, Term
from billing.errors import ErrorCode, InvalidBatchError, RecordProblem
from billing.money import Money
from billing.seat_charges import SeatChargePreview, preview_seat_charge
from billing.seats import (
    AccessLevel,
    Reason,
    SeatMembership,
    SeatUser,
    SourceKind,
    UserState,
    UserType,
    seat_decision,
)
from db.members import ReachingMembership, users_by_username_or_email
from db.tables import GitlabUser, Namespace
from resolvers.context import Context
from resolvers.loaders import required
from resolvers.members import excludes_guests, seat_membership

MAX_PREVIEW = 1000
# RFC 5321: a forward path holds at most 256 octets, two of them the angle brackets
MAX_EMAIL_LENGTH = 254


def email_problem(email: str) -> str | None:
    """Why `email` is not an address (None when it looks like one: `local@domain.tld`, one
    `@`, no whitespace), in time linear in its length. A regex with two unbounded runs
    around the `.` backtracked quadratically (`"a@" + "." * 20000 + "@"`: 0.4 s)."""
    if len(email) > MAX_EMAIL_LENGTH:
        return f"An email address has at most {MAX_EMAIL_LENGTH} characters."
    local, _, domain = email.partition("@")
    if not local or "@" in domain or "." not in domain[1:-1] or _has_space(email):
        return f"{email!r} is not an email address."
    return None


def _has_space(text: str) -> bool:
    return any(c.isspace() for c in text)


def _check_preview_size(usernames: Sequence[str], emails: Sequence[str]) -> None:
    """Refuse more than MAX_PREVIEW people before looking anyone up, naming the list that
    passes the cap (usernames count first) and the index of its first person too many."""
    if len(usernames) + len(emails) <= MAX_PREVIEW:
        return
    field, index = (
        ("addUsernames", MAX_PREVIEW)
        if len(usernames) > MAX_PREVIEW
        else ("addEmails", MAX_PREVIEW - len(usernames))
    )
    message = f"At most {MAX_PREVIEW} people per preview (usernames and emails together)."
    raise InvalidBatchError(
        [RecordProblem(index, field, ErrorCode.BATCH_TOO_LARGE, message)], field
    )


@dataclass(frozen=True)
class PreviewedPerson:
    """One person the preview would add: a known user, or an unknown email (a new user)."""

    username: str | None
    email: str | None
    known: bool
    already_billable: bool
    will_take_seat: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class MembersChangePreview:
    people: list[PreviewedPerson]
    seats_in_use: int
    billable_after: int
    charge: SeatChargePreview | None  # None without an active subscription before its end
    seats: int


async def preview_members_change(
    context: Context,
    namespace: Namespace,
    *,
    usernames: Sequence[str],
    emails: Sequence[str],
    role: AccessLevel,
) -> MembersChangePreview:
    """Whether adding these people to the top-level group with `role` would cost money, and
    how much. Writes nothing. An email no user shows publicly counts as one new user (and
    seat) each. Unknown usernames are refused, except for customers: a customer sees only
    people holding a membership reaching the namespace, so any other username, known to
    GitLab.com or not, counts as one new user too, and so does the email of a user it may
    not see; nothing in the answer tells a hidden user from an unknown one."""
    assert namespace.id is not None
    _check_preview_size(usernames, emails)
    problems = [
        RecordProblem(index, "addEmails", ErrorCode.INVALID_VALUE, why)
        for index, email in enumerate(emails)
        if (why := email_problem(email)) is not None
    ]
    found = await _find_people(context, namespace.id, usernames, emails)
    for index, username in enumerate(usernames):
        if username not in found.by_username and context.principal.sees_every_user:
            problems.append(
                RecordProblem(
                    index, "addUsernames", ErrorCode.UNKNOWN_USER, f"No user {username!r}."
                )
            )
    if problems:
        raise InvalidBatchError(problems, problems[0].field)

    today = context.clock.today()
    excludes = await excludes_guests(context, namespace.id)
    people = _previewed_people(
        found,
        usernames,
        emails,
        added=SeatMembership(source_kind=SourceKind.GROUP, access_level=role),
        excludes_guests=excludes,
        today=today,
    )
    newly_billable = sum(p.will_take_seat and not p.already_billable for p in people)
    billable_after = namespace.seats_in_use + newly_billable
    subscription = await context.loaders.active_subscription_by_namespace.load(namespace.id)
    if subscription is None or subscription.status != "active" or today >= subscription.end_date:
        return MembersChangePreview(people, namespace.seats_in_use, billable_after, None, 0)
    plan = await required(context.loaders.plan_by_id, subscription.plan_id)
    price = await required(context.loaders.price_by_id, subscription.price_id)
    charge = preview_seat_charge(
        seat=Item(plan.name, 1, Money(price.unit_amount, price.currency)),
        seats=subscription.seats,
        max_seats_used=subscription.max_seats_used,
        billable_now=namespace.seats_in_use,
        billable_after=billable_after,
        paid=plan.code != "free" and not subscription.trial,
        quarterly=subscription.quarterly_reconciliation,
        term=Term(subscription.start_date, subscription.end_date),
        today=today,
        plan_changed_on=subscription.plan_changed_on,
    )
    return MembersChangePreview(
        people, namespace.seats_in_use, billable_after, charge, subscription.seats
    )


@dataclass(frozen=True)
class _FoundPeople:
    by_username: dict[str, GitlabUser]
    by_email: dict[str, GitlabUser]  # by lower-case public email
    held: dict[int, list[ReachingMembership]]  # user id -> memberships reaching the namespace


async def _find_people(
    context: Context, namespace_id: int, usernames: Sequence[str], emails: Sequence[str]
) -> _FoundPeople:
    """The users named by username or public email, with their memberships reaching the
    namespace. For a customer, only those holding such a membership: anyone else is
    previewed exactly as a username or email GitLab.com does not know."""
    async with context.db() as session:
        found = await users_by_username_or_email(session, usernames, emails)
    # everyone's memberships in one batch, not one statement per person; the batch runs
    # even when nobody was found (user id 0 holds nothing), so that a hidden user and an
    # unknown one cost the same statements
    keys = [(namespace_id, user.id or 0) for user in found]
    reaching = await context.loaders.memberships_by_namespace_user.load_many(
        keys or [(namespace_id, 0)]
    )
    held = {user_id: m for (_, user_id), m in zip(keys, reaching[: len(keys)], strict=True)}
    if not context.principal.sees_every_user:
        found = [user for user in found if held[user.id or 0]]
    return _FoundPeople(
        by_username={u.username: u for u in found},
        by_email={u.public_email.lower(): u for u in found if u.public_email},
        held=held,
    )


def _previewed_people(
    found: _FoundPeople,
    usernames: Sequence[str],
    emails: Sequence[str],
    *,
    added: SeatMembership,
    excludes_guests: bool,
    today: date,
) -> list[PreviewedPerson]:
    """Each person once: users found (by username, then by email), then anyone else counted
    as a new active human given only the added membership."""
    newcomer = seat_decision(
        SeatUser(UserState.ACTIVE, UserType.HUMAN),
        [added],
        excludes_guests=excludes_guests,
        today=today,
    )

    def new_person(username: str | None, email: str | None) -> PreviewedPerson:
        return PreviewedPerson(username, email, False, False, newcomer.billable, newcomer.reasons)

    people: list[PreviewedPerson] = []
    seen: set[int] = set()
    # usernames nobody visible holds (only customers get past validation with them)
    outsiders = {n: new_person(n, None) for n in usernames if n not in found.by_username}
    named: list[tuple[GitlabUser | None, str | None, str | None]]
    named = [(found.by_username.get(n), n, None) for n in usernames]
    named += [(found.by_email[e.lower()], None, e) for e in emails if e.lower() in found.by_email]
    for user, username, via_email in named:
        if user is None:
            assert username is not None
            if username in outsiders:
                people.append(outsiders.pop(username))
            continue
        assert user.id is not None
        if user.id in seen:
            continue
        seen.add(user.id)
        seat_user = SeatUser(UserState(user.state), UserType(user.user_type))
        held = [seat_membership(m) for m in found.held[user.id]]
        now = seat_decision(seat_user, held, excludes_guests=excludes_guests, today=today)
        after = seat_decision(
            seat_user, [*held, added], excludes_guests=excludes_guests, today=today
        )
        people.append(
            PreviewedPerson(
                user.username, via_email, True, now.billable, after.billable, after.reasons
            )
        )
    unknown_emails = dict.fromkeys(e.lower() for e in emails if e.lower() not in found.by_email)
    people += [new_person(None, email) for email in unknown_emails]
    return people
