"""Licenses of self-managed instances."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Annotated, TypeAlias

import strawberry
from strawberry import relay

from billing.errors import BillingError, ErrorCode, InvalidInputError
from billing.licenses import LicenseType as DomainLicenseType
from db import tables
from resolvers import accounts, activation, licenses, syncs
from resolvers.report_file import Report
from schema.base import Info, node_id, resolve_nodes_by_id, visible_nodes
from schema.errors import Conflict, InvalidInput, LicenseRefused, NotFound, user_error
from schema.user_statistics import InstanceUserStatisticsInput, statistics_input

strawberry.enum(DomainLicenseType, description="How an instance receives its licenses.")
LicenseType: TypeAlias = DomainLicenseType


@strawberry.type(description="A signed license: what it grants, and the token itself.")
class License(relay.Node):
    id: relay.NodeID[int]
    kid: str = strawberry.field(description="Id of the key that signed it (JWT header).")
    license_type: LicenseType = strawberry.field(description="Online (synced) or offline.")
    plan: str = strawberry.field(description="Plan code granted.")
    seats: int = strawberry.field(description="Seats granted.")
    starts_on: datetime.date = strawberry.field(description="First day it is valid.")
    expires_on: datetime.date = strawberry.field(description="The day it stops being valid.")
    issued_at: datetime.datetime = strawberry.field(description="When it was signed (UTC).")
    token: str = strawberry.field(
        description="The license: an Ed25519-signed JWT to apply on the instance."
    )

    @classmethod
    def of(cls, row: tables.License) -> License:
        assert row.id is not None
        return cls(
            id=row.id,
            kid=row.kid,
            license_type=LicenseType(row.license_type),
            plan=row.plan,
            seats=row.seats,
            starts_on=row.starts_on,
            expires_on=row.expires_on,
            issued_at=row.issued_at,
            token=row.token,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[License | None]:
        return await resolve_nodes_by_id(
            node_ids, visible_nodes(lambda i: licenses.get_license(info.context, i)), cls.of
        )


@strawberry.type(description="What an instance reported in a sync or usage report.")
class SyncReport(relay.Node):
    id: relay.NodeID[int]
    day: datetime.date = strawberry.field(description="The service's day it counts for.")
    billable_users: int = strawberry.field(
        description="Users who took a seat, in the day's latest report by reportedAt."
    )
    peak: int = strawberry.field(description="The highest count of all the day's reports.")
    max_historical_users: int = strawberry.field(description="The most users ever at once.")
    version: str = strawberry.field(description="The instance's GitLab version.")
    hostname: str = strawberry.field(description="Its host name.")
    reported_at: datetime.datetime = strawberry.field(description="When it counted.")
    entered_by_billing_team: bool = strawberry.field(
        description="True when the billing team entered it (no license was presented)."
    )

    @classmethod
    def of(cls, row: tables.SyncReport) -> SyncReport:
        assert row.id is not None
        return cls(
            id=row.id,
            day=row.day,
            billable_users=row.billable_users,
            peak=row.peak,
            max_historical_users=row.max_historical_users,
            version=row.version,
            hostname=row.hostname,
            reported_at=row.reported_at,
            entered_by_billing_team=row.license_id is None,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[SyncReport | None]:
        return await resolve_nodes_by_id(
            node_ids, visible_nodes(lambda i: accounts.get_sync_report(info.context, i)), cls.of
        )


@strawberry.type(description="A license as a file to download and apply offline.")
class LicenseFile:
    filename: str = strawberry.field(description='e.g. "subscription-4-2026-03-15.gitlab-license".')
    content: str = strawberry.field(description="The file's content: the signed license.")
    license: License = strawberry.field(description="What it grants.")


@strawberry.type
class LicenseQuery:
    @strawberry.field(
        description="The current license of an instance subscription, as a file to apply "
        "offline. The customer's people and admins. Null, with a NOT_FOUND error at this path"
        " only, when there is none the caller may see."
    )
    async def license_file(
        self,
        info: Info,
        subscription_id: Annotated[
            strawberry.ID, strawberry.argument(description="The instance subscription.")
        ],
    ) -> LicenseFile | None:
        row = await licenses.license_file(
            info.context, node_id("Subscription", subscription_id, "subscriptionId")
        )
        return LicenseFile(
            filename=f"subscription-{row.subscription_id}-{row.starts_on.isoformat()}"
            ".gitlab-license",
            content=row.token + "\n",
            license=License.of(row),
        )


@strawberry.input(description="An online instance's daily report, authenticated by its license.")
class LicenseSyncInput:
    license: str = strawberry.field(description="The instance's current license (the token).")
    instance_id: str = strawberry.field(description="The instance's own unique id.")
    hostname: str = strawberry.field(description="Its host name.")
    version: str = strawberry.field(description="Its GitLab version.")
    billable_users: int = strawberry.field(description="Users who take a seat now.")
    max_historical_users: int = strawberry.field(
        description="The most users it has ever had at once."
    )
    reported_at: datetime.datetime = strawberry.field(description="When it counted.")
    user_statistics: InstanceUserStatisticsInput | None = strawberry.field(
        default=None,
        description="The admin area's user statistics (GitLab 17.x and later send them).",
    )


@strawberry.type(description="What a sync changed, and what the instance should use now.")
class LicenseSyncSuccess:
    license: str | None = strawberry.field(
        description="The current license: apply it if it changed (null only while the service "
        "has no signing key)."
    )
    license_changed: bool = strawberry.field(
        description="Whether it differs from the one presented (the subscription changed)."
    )
    next_sync_at: datetime.datetime = strawberry.field(description="When to sync next.")
    next_reconciliation_on: datetime.date | None = strawberry.field(
        description="When seats used above those paid are next charged (a quarter's end, or "
        "the renewal's true-up)."
    )
    seats: int = strawberry.field(description="Seats paid for.")
    seats_in_use: int = strawberry.field(description="Billable users as last reported.")
    max_seats_used: int = strawberry.field(description="The term's highest reported count.")
    report_changed: bool = strawberry.field(
        description="Whether this report changed anything: a first report for its day, a "
        "higher peak for its day, or a later current count. False for a repeat, and for an "
        "older report that arrived late below its day's peak."
    )


LicenseSyncResult = Annotated[
    LicenseSyncSuccess | LicenseRefused | InvalidInput,
    strawberry.union("LicenseSyncResult", description="The sync's answer, or why not."),
]


@strawberry.input(description="A new activation code for an online instance subscription.")
class LicenseActivationCodeCreateInput:
    subscription_id: strawberry.ID = strawberry.field(description="The instance subscription.")


@strawberry.type(description="A one-time activation code; shown once, only its hash is kept.")
class LicenseActivationCode:
    activation_code: str = strawberry.field(description='e.g. "K7QX-3MDA-TQ2P-8ZLA-ME4C".')


LicenseActivationCodeCreateResult = Annotated[
    LicenseActivationCode | InvalidInput | NotFound | Conflict,
    strawberry.union("LicenseActivationCodeCreateResult", description="The code, or why not."),
]


@strawberry.input(description="An instance trading its subscription's activation code.")
class LicenseActivateInput:
    activation_code: str = strawberry.field(description="The code from the customer portal.")
    instance_id: str = strawberry.field(description="The instance's own unique id.")
    hostname: str = strawberry.field(description="Its host name.")
    version: str = strawberry.field(description="Its GitLab version.")


@strawberry.type(description="The instance is activated.")
class LicenseActivateSuccess:
    license: License = strawberry.field(description="Its license: apply license.token.")


LicenseActivateResult = Annotated[
    LicenseActivateSuccess | LicenseRefused | InvalidInput,
    strawberry.union("LicenseActivateResult", description="The license, or why not."),
]


@strawberry.type
class ActivationMutation:
    @strawberry.mutation(
        description="A fresh activation code for an online instance subscription (its customer "
        "or admins); earlier unused codes stop working."
    )
    async def license_activation_code_create(
        self,
        info: Info,
        input: Annotated[
            LicenseActivationCodeCreateInput, strawberry.argument(description="Which one.")
        ],
    ) -> LicenseActivationCodeCreateResult:
        subscription_id = node_id("Subscription", input.subscription_id, "subscriptionId")
        try:
            code = await activation.create_code(info.context, subscription_id)
        except BillingError as error:
            return user_error(error)  # type: ignore[return-value]
        return LicenseActivationCode(activation_code=code)

    @strawberry.mutation(
        description="An online instance trades its one-time activation code for its license "
        "(no token needed). Calls are rate-limited per client, and wrong codes per instance "
        "id (RATE_LIMITED, with retryAfter); a valid code is never refused for others' tries."
    )
    async def license_activate(
        self,
        info: Info,
        input: Annotated[LicenseActivateInput, strawberry.argument(description="The request.")],
    ) -> LicenseActivateResult:
        request = activation.Activation(
            input.activation_code, input.instance_id, input.hostname, input.version
        )
        try:
            row = await activation.activate(info.context, request)
        except BillingError as error:
            return user_error(error)  # type: ignore[return-value]
        return LicenseActivateSuccess(license=License.of(row))


@strawberry.input(
    description="An offline instance's usage: its exported report file, or (admins) the counts "
    "entered for an instance subscription."
)
class UsageReportUploadInput:
    report: str | None = strawberry.field(
        default=None, description="The instance's exported usage report (JSON with its license)."
    )
    subscription_id: strawberry.ID | None = strawberry.field(
        default=None, description="Admins: the instance subscription the counts are for."
    )
    billable_users: int | None = strawberry.field(default=None, description="Admins: users.")
    max_historical_users: int | None = strawberry.field(
        default=None, description="Admins: the most users ever at once."
    )
    reported_at: datetime.datetime | None = strawberry.field(
        default=None, description="Admins: when the instance counted (now by default)."
    )


UsageReportUploadResult = Annotated[
    LicenseSyncSuccess | LicenseRefused | InvalidInput | NotFound | Conflict,
    strawberry.union("UsageReportUploadResult", description="The answer, or why not."),
]


def _success(answer: syncs.SyncAnswer) -> LicenseSyncSuccess:
    return LicenseSyncSuccess(
        license=answer.license,
        license_changed=answer.license_changed,
        next_sync_at=answer.next_sync_at,
        next_reconciliation_on=answer.next_reconciliation_on,
        seats=answer.seats,
        seats_in_use=answer.seats_in_use,
        max_seats_used=answer.max_seats_used,
        report_changed=answer.changed,
    )


@strawberry.type
class LicenseMutation(ActivationMutation):
    @strawberry.mutation(
        description="An offline instance's usage report, handled like a sync: the exported "
        "file (its license authenticates it; no token), or counts an admin enters."
    )
    async def usage_report_upload(
        self,
        info: Info,
        input: Annotated[UsageReportUploadInput, strawberry.argument(description="The report.")],
    ) -> UsageReportUploadResult:
        try:
            if (input.report is None) == (input.subscription_id is None):
                raise InvalidInputError(
                    ErrorCode.INVALID_VALUE, "Send a report file or a subscription.", "report"
                )
            if input.subscription_id is not None and (
                input.billable_users is None or input.max_historical_users is None
            ):
                raise InvalidInputError(
                    ErrorCode.INVALID_VALUE,
                    "Counts are needed with a subscription.",
                    "billableUsers",
                )
            upload = syncs.Upload(
                file=input.report,
                subscription_id=node_id("Subscription", input.subscription_id, "subscriptionId")
                if input.subscription_id is not None
                else None,
                billable_users=input.billable_users,
                max_historical_users=input.max_historical_users,
                reported_at=input.reported_at.replace(
                    tzinfo=input.reported_at.tzinfo or datetime.UTC
                )
                if input.reported_at
                else None,
            )
            answer = await syncs.upload_report(info.context, upload)
        except BillingError as error:
            return user_error(error)  # type: ignore[return-value]
        return _success(answer)

    @strawberry.mutation(
        description="An online instance's daily sync: no token, the license authenticates it. "
        "One report per instance and day counts; a repeat changes nothing."
    )
    async def license_sync(
        self,
        info: Info,
        input: Annotated[LicenseSyncInput, strawberry.argument(description="The report.")],
    ) -> LicenseSyncResult:
        try:
            report = Report(
                license=input.license.strip(),
                instance_uid=input.instance_id,
                hostname=input.hostname,
                version=input.version,
                billable_users=input.billable_users,
                max_historical_users=input.max_historical_users,
                reported_at=input.reported_at
                if input.reported_at.tzinfo
                else input.reported_at.replace(tzinfo=datetime.UTC),
                user_statistics=statistics_input(input.user_statistics, input.billable_users),
            )
            answer = await syncs.license_sync(info.context, report)
        except BillingError as error:
            return user_error(error)  # type: ignore[return-value]
        return _success(answer)
