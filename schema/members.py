"""A namespace's members: billable members, why someone does or does not take a seat, totals."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterable
from enum import Enum
from typing import Annotated, Any, TypeAlias, TypeVar

import strawberry
from strawberry import relay

from billing.seats import AccessLevel, Reason, SeatUser, membership_reasons, user_reasons
from billing.seats import MembershipState as DomainMembershipState
from billing.seats import MembershipType as DomainMembershipType
from billing.seats import UserState as DomainUserState
from billing.seats import UserType as DomainUserType
from db import tables
from db.members import MemberRecord, ReachingMembership, UserRecord
from resolvers import member_preview, members
from resolvers.errors import BadUserInput
from resolvers.members import MemberSort as DomainMemberSort
from schema.base import Info, page_info, resolve_nodes_by_id
from schema.errors import InvalidBatch
from schema.invoices import ChargeQuote
from schema.seat_data import SourceKind

strawberry.enum(AccessLevel, name="MemberRole", description="A member's role (access level).")
strawberry.enum(DomainMembershipType, description="How a membership reaches the namespace.")
strawberry.enum(Reason, name="SeatReason", description="Why a user or membership takes no seat.")
strawberry.enum(DomainUserState, name="UserState", description="A GitLab.com user's state.")
strawberry.enum(DomainUserType, name="UserType", description="Human, bot or other account.")
strawberry.enum(DomainMemberSort, name="BillableMemberSort", description="Orders of members.")
strawberry.enum(
    DomainMembershipState,
    name="MembershipState",
    description="Whether a membership is in force or waits for an owner's approval.",
)
MemberRole: TypeAlias = AccessLevel
MembershipType: TypeAlias = DomainMembershipType
SeatReason: TypeAlias = Reason
UserState: TypeAlias = DomainUserState
UserType: TypeAlias = DomainUserType
BillableMemberSort: TypeAlias = DomainMemberSort
MembershipState: TypeAlias = DomainMembershipState


E = TypeVar("E", bound=Enum)
_MEMBERS: dict[type[Enum], dict[Any, Enum]] = {}


def _member(kind: type[E], value: Any) -> E:
    """`kind(value)` from a table: rows of a page convert hundreds of values each."""
    members = _MEMBERS.get(kind)
    if members is None:
        members = _MEMBERS[kind] = {m.value: m for m in kind}
    found = members.get(value)
    return found if found is not None else kind(value)  # type: ignore[return-value]


@strawberry.type(description="A GitLab.com user.")
class User(relay.Node):
    id: relay.NodeID[int]
    gitlab_id: int = strawberry.field(description="GitLab.com user id.")
    username: str = strawberry.field(description="Username.")
    name: str = strawberry.field(description="Display name.")
    public_email: str | None = strawberry.field(description="Public email, if shown.")
    state: UserState = strawberry.field(description="Active, blocked, and so on.")
    user_type: UserType = strawberry.field(description="Human, bot, service account, internal.")
    last_activity_on: datetime.date | None = strawberry.field(description="Last active day.")
    last_sign_in_at: datetime.datetime | None = strawberry.field(description="Last sign-in.")

    @classmethod
    def of(cls, row: tables.GitlabUser | UserRecord) -> User:
        assert row.id is not None
        return cls(
            id=row.id,
            gitlab_id=row.gitlab_id,
            username=row.username,
            name=row.name,
            public_email=row.public_email,
            state=_member(UserState, row.state),
            user_type=_member(UserType, row.user_type),
            last_activity_on=row.last_activity_on,
            last_sign_in_at=row.last_sign_in_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[User | None]:
        return await resolve_nodes_by_id(
            node_ids, lambda ids: members.get_users(info.context, ids), cls.of
        )


@strawberry.type(description="One membership reaching the namespace, and whether it counts.")
class MembershipDetail:
    source_kind: SourceKind = strawberry.field(description="GROUP or PROJECT.")
    source_path: str = strawberry.field(description="Full path of the group or project.")
    role: MemberRole = strawberry.field(description="The member's role there.")
    effective_role: MemberRole = strawberry.field(
        description="The role that counts: through an invited group, the lower of the member's"
        " role and the role the share grants."
    )
    invited_group_path: str | None = strawberry.field(
        description="The invited group this membership comes through, if any."
    )
    membership_type: MembershipType = strawberry.field(description="How it reaches.")
    state: MembershipState = strawberry.field(description="ACTIVE, or AWAITING approval.")
    invite_pending: bool = strawberry.field(description="An invitation not yet accepted.")
    access_request: bool = strawberry.field(description="A request for access not yet granted.")
    expires_on: datetime.date | None = strawberry.field(description="When it ends, if it does.")
    joined_at: datetime.datetime = strawberry.field(description="When the user joined.")
    takes_seat: bool = strawberry.field(
        description="Whether this membership counts for a seat: only if its user takes one"
        " (not blocked, not a bot, ...) and it is itself active, accepted, not expired and"
        " above the roles that take no seat."
    )
    reasons: list[SeatReason] = strawberry.field(
        description="Why it does not count, if not: its user's reasons and its own."
    )


def membership_details(
    held: list[ReachingMembership],
    *,
    excludes_guests: bool,
    today: datetime.date,
    user: SeatUser | None = None,
) -> list[MembershipDetail]:
    """`user`: the member, whose own reasons (blocked, a bot, ...) apply to every membership;
    None for a billable member, who has none."""
    details = []
    of_user = user_reasons(user) if user is not None else set()
    for m in held:
        seat = members.seat_membership(m)
        why = of_user | membership_reasons(seat, excludes_guests=excludes_guests, today=today)
        details.append(
            MembershipDetail(
                source_kind=_member(SourceKind, m.source_kind),
                source_path=m.source_path,
                role=seat.access_level,
                effective_role=seat.effective_access_level,
                invited_group_path=m.shared_group_path,
                membership_type=seat.membership_type,
                state=_member(MembershipState, m.state),
                invite_pending=m.invite_pending,
                access_request=m.access_request,
                expires_on=m.expires_on,
                joined_at=m.created_at,
                takes_seat=not why,
                reasons=[r for r in Reason if r in why],
            )
        )
    return details


@strawberry.type(description="A member who takes a seat.")
class BillableMember:
    username: str = strawberry.field(description="Username.")
    name: str = strawberry.field(description="Display name.")
    public_email: str | None = strawberry.field(description="Public email, if shown.")
    last_activity_on: datetime.date | None = strawberry.field(description="Last active day.")
    membership_type: MembershipType = strawberry.field(
        description="How their highest membership reaches the namespace."
    )
    highest_role: MemberRole = strawberry.field(description="Their highest role that counts.")
    last_joined_at: datetime.datetime = strawberry.field(
        description="When they last joined a group or project of the namespace."
    )
    # the page joins the user when its selection reaches it (schema.lookahead), so this is a
    # plain field: read from the object, no resolver per row, no second query
    user: User = strawberry.field(
        description="The user; their state is always active while billable."
    )
    row: strawberry.Private[MemberRecord]

    @strawberry.field(description="Every membership of theirs reaching the namespace.")
    async def memberships(self, info: Info) -> list[MembershipDetail]:
        namespace_id = self.row.namespace_id
        held = await members.memberships(info.context, namespace_id, self.row.user_id)
        excludes = await members.excludes_guests(info.context, namespace_id)
        return membership_details(held, excludes_guests=excludes, today=info.context.clock.today())

    @classmethod
    def of(cls, row: MemberRecord) -> BillableMember:
        return cls(
            username=row.username,
            name=row.name,
            public_email=row.public_email,
            last_activity_on=row.last_activity_on,
            membership_type=_member(MembershipType, row.membership_type),
            highest_role=_member(AccessLevel, row.access_level),
            last_joined_at=row.joined_at,
            # not selected when not joined: never read then
            user=User.of(row.user) if row.user is not None else None,  # type: ignore[arg-type]
            row=row,
        )


@strawberry.type(description="A billable member and where it sits in the list.")
class BillableMemberEdge:
    sort: strawberry.Private[DomainMemberSort]

    # encoded only when asked for: pages usually read pageInfo.endCursor, not 100 of these
    def _cursor(self) -> str:
        return encode_member_cursor(self.sort, self.node.row.sort_value, self.node.row.user_id)

    cursor: str = strawberry.field(
        resolver=_cursor, description="Pass as `after` to continue after this member."
    )
    node: BillableMember = strawberry.field(description="The member.")


@strawberry.type(description="A page of billable members.")
class BillableMemberConnection:
    edges: list[BillableMemberEdge] = strawberry.field(description="The members of this page.")
    page_info: relay.PageInfo = strawberry.field(description="Where this page ends.")
    namespace: strawberry.Private[tables.Namespace]
    search: strawberry.Private[str | None]

    @strawberry.field(description="The members of this page, without their cursors.")
    def nodes(self) -> list[BillableMember]:
        return [edge.node for edge in self.edges]

    @strawberry.field(
        description="How many members there are in all pages: without `search`, the"
        " namespace's seats in use (GitLab's X-Total); with it, how many match it."
    )
    async def total_count(self, info: Info) -> int:
        return await members.count_billable_members(
            info.context, self.namespace, search=self.search
        )


def billable_member_connection(
    rows: list[MemberRecord],
    limit: int,
    sort: DomainMemberSort,
    *,
    namespace: tables.Namespace,
    search: str | None,
) -> BillableMemberConnection:
    """A connection from up to `limit + 1` rows; the extra row, if any, only tells that there
    is a next page. Only the first and last rows' cursors are encoded here."""
    page = rows[:limit]
    ends = [encode_member_cursor(sort, r.sort_value, r.user_id) for r in page[:1] + page[1:][-1:]]
    return BillableMemberConnection(
        edges=[BillableMemberEdge(sort=sort, node=BillableMember.of(row)) for row in page],
        page_info=page_info(ends, len(rows) > limit),
        namespace=namespace,
        search=search,
    )


def encode_member_cursor(sort: DomainMemberSort, value: Any, user_id: int) -> str:
    if isinstance(value, datetime.date | datetime.datetime):
        value = value.isoformat()
    raw = json.dumps([sort.value, value, user_id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_member_cursor(sort: DomainMemberSort, cursor: str | None) -> tuple[Any, int] | None:
    """The cursor's (key value, user id); a cursor of another sort or list is refused."""
    if cursor is None:
        return None
    try:
        cursor_sort, value, user_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if cursor_sort != sort.value or not isinstance(user_id, int):
            raise ValueError(cursor_sort)
        key = members.SORTS[sort][0]
        if key == "joined_at":
            value = datetime.datetime.fromisoformat(value)
        elif key == "last_activity_on":
            value = datetime.date.fromisoformat(value)
        elif not isinstance(value, int if key == "access_level" else str):
            raise ValueError(value)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise BadUserInput(
            f"`after` is not a cursor of this list in this order: {cursor!r}."
        ) from None
    return value, user_id


@strawberry.type(description="Whether a user takes a seat in the namespace, and why not.")
class MemberSeat:
    user: User = strawberry.field(description="The user.")
    is_billable: bool = strawberry.field(description="Whether they take a seat.")
    reasons: list[SeatReason] = strawberry.field(
        description="Every reason they take no seat; empty when they do."
    )
    highest_role: MemberRole | None = strawberry.field(
        description="Their highest role among memberships that count."
    )
    membership_type: MembershipType | None = strawberry.field(
        description="How that highest membership reaches the namespace."
    )
    memberships: list[MembershipDetail] = strawberry.field(
        description="Every membership reaching the namespace, each with whether it counts."
    )


@strawberry.type(description="Totals for the namespace's members page.")
class UserStatistics:
    total_members: int = strawberry.field(description="Everyone with any membership, once.")
    active: int = strawberry.field(description="Members whose account is active.")
    billable: int = strawberry.field(description="Members who take a seat.")
    blocked: int = strawberry.field(description="Blocked members.")
    deactivated: int = strawberry.field(description="Deactivated members.")
    banned: int = strawberry.field(description="Banned members.")
    pending_approval: int = strawberry.field(description="Members awaiting admin approval.")
    bots: int = strawberry.field(description="Bots, service accounts and internal users.")
    guests: int = strawberry.field(description="Humans whose highest role is Guest.")
    guests_are_free: bool = strawberry.field(
        description="Whether guests take no seat on the namespace's plan (Ultimate)."
    )


@strawberry.type(description="One person the preview would add.")
class PreviewedPerson:
    username: str | None = strawberry.field(description="Their username, when known.")
    email: str | None = strawberry.field(description="The email they were named by, if any.")
    is_new_user: bool = strawberry.field(
        description="Counted as a new user: no GitLab.com user shows this email, or, for a"
        " customer, the person holds no membership in the namespace (a customer sees users only"
        " through its namespaces' memberships, so such a username reads like an unknown one)."
    )
    already_billable: bool = strawberry.field(description="Already takes a seat here.")
    will_take_seat: bool = strawberry.field(description="Would take a seat after the change.")
    reasons: list[SeatReason] = strawberry.field(description="Why they would take no seat.")


@strawberry.type(
    description="What adding members would do to seats and charges. Asking writes nothing."
)
class MembersChangePreview:
    seats_in_use: int = strawberry.field(description="Billable users now.")
    new_billable_count: int = strawberry.field(description="Billable users after the change.")
    seats: int = strawberry.field(description="Seats paid for (0 without a subscription).")
    max_seats_used: int = strawberry.field(
        description="The highest billable count of the term so far, today's included (before "
        "the term starts: today's count; 0 without a subscription)."
    )
    seats_covered: int = strawberry.field(
        description="max(seats, maxSeatsUsed): billable users up to this many cost nothing more."
    )
    new_seats_owed: int = strawberry.field(
        description="Seats over seatsCovered the change would add: the ones charged."
    )
    will_incur_charge: bool = strawberry.field(
        description="Whether the owed seats will be charged (then `charge` says how much and when)."
    )
    charge: ChargeQuote | None = strawberry.field(
        description="What the owed seats will be charged if nothing else is done, and when: at "
        "the next quarterly reconciliation (its share of the year), or at the true-up on the "
        "term's end date (full price). Null when nothing will be charged for them in this term "
        "(none owed, or added in the fourth quarter of a quarterly-reconciled term)."
    )
    buy_now: ChargeQuote | None = strawberry.field(
        description="What buying the owed seats today would cost instead: exactly what "
        "subscriptionAddSeats charges for them (prorated by day; before the term starts, the "
        "whole term). Null when none are owed."
    )
    people: list[PreviewedPerson] = strawberry.field(description="Each person, once.")

    @classmethod
    def of(cls, preview: member_preview.MembersChangePreview) -> MembersChangePreview:
        charge = preview.charge
        due = charge.due if charge else None
        buy_now = charge.buy_now if charge else None
        return cls(
            seats_in_use=preview.seats_in_use,
            new_billable_count=preview.billable_after,
            seats=preview.seats,
            max_seats_used=charge.peak if charge else 0,
            seats_covered=charge.covered if charge else 0,
            new_seats_owed=charge.new_seats_owed if charge else 0,
            will_incur_charge=due is not None,
            charge=ChargeQuote.of(due.on, due.line) if due else None,
            buy_now=ChargeQuote.of(buy_now.on, buy_now.line) if buy_now else None,
            people=[
                PreviewedPerson(
                    username=p.username,
                    email=p.email,
                    is_new_user=not p.known,
                    already_billable=p.already_billable,
                    will_take_seat=p.will_take_seat,
                    reasons=list(p.reasons),
                )
                for p in preview.people
            ],
        )


PreviewMembersChangeResult = Annotated[
    MembersChangePreview | InvalidBatch,
    strawberry.union(
        "PreviewMembersChangeResult", description="The preview, or which people are not valid."
    ),
]


@strawberry.type(description="Billable users of a namespace on one day.")
class SeatUsage:
    date: datetime.date = strawberry.field(description="The day.")
    billable_users: int = strawberry.field(
        description="Users who took a seat at the day's last count."
    )
    peak: int = strawberry.field(
        description="The day's highest count (what quarterly reconciliation charges by)."
    )
