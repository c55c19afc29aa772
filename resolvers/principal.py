"""Who is calling and what they may do. Built by the API edge from a verified token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # the billing team: everything
    CUSTOMER = "customer"  # one customer's own data
    GITLAB = "gitlab"  # the GitLab.com service: seat data of any namespace
    ANALYST = "analyst"  # read-only everything


class Permission(StrEnum):
    READ_CATALOG = "read_catalog"
    READ_OWN_CUSTOMER = "read_own_customer"
    READ_ALL_CUSTOMERS = "read_all_customers"
    READ_ALL_NAMESPACES = "read_all_namespaces"
    WRITE_SEAT_DATA = "write_seat_data"
    MANAGE_OWN_SUBSCRIPTIONS = "manage_own_subscriptions"
    MANAGE_BILLING = "manage_billing"  # any customer's subscriptions, invoices, payments


_PERMISSIONS: dict[Role | None, frozenset[Permission]] = {
    None: frozenset({Permission.READ_CATALOG}),
    Role.CUSTOMER: frozenset(
        {
            Permission.READ_CATALOG,
            Permission.READ_OWN_CUSTOMER,
            Permission.MANAGE_OWN_SUBSCRIPTIONS,
        }
    ),
    Role.GITLAB: frozenset(
        {Permission.READ_CATALOG, Permission.READ_ALL_NAMESPACES, Permission.WRITE_SEAT_DATA}
    ),
    Role.ANALYST: frozenset(
        {Permission.READ_CATALOG, Permission.READ_ALL_CUSTOMERS, Permission.READ_ALL_NAMESPACES}
    ),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. `role` None means anonymous; customers carry the id of their customer."""

    role: Role | None = None
    subject: str | None = None
    customer_id: int | None = None

    @property
    def authenticated(self) -> bool:
        return self.role is not None

    @property
    def permissions(self) -> frozenset[Permission]:
        return _PERMISSIONS[self.role]

    def may_read_customer(self, customer_id: int | None) -> bool:
        """Customers, their instances and their subscriptions."""
        if Permission.READ_ALL_CUSTOMERS in self.permissions:
            return True
        return (
            self.role is Role.CUSTOMER
            and customer_id is not None
            and (customer_id == self.customer_id)
        )

    def may_read_namespace(self, owner_customer_id: int | None) -> bool:
        """A namespace, its subscription and its seat data."""
        return Permission.READ_ALL_NAMESPACES in self.permissions or self.may_read_customer(
            owner_customer_id
        )

    @property
    def sees_every_user(self) -> bool:
        """Whether any GitLab.com user may be read. Roles that read every namespace's seat data
        may; a customer sees a user only through a membership reaching one of its own
        namespaces, and the resolvers that hand out users check that membership."""
        return Permission.READ_ALL_NAMESPACES in self.permissions

    def may_manage_customer(self, customer_id: int | None) -> bool:
        """Buy and change the customer's subscriptions."""
        if Permission.MANAGE_BILLING in self.permissions:
            return True
        return (
            Permission.MANAGE_OWN_SUBSCRIPTIONS in self.permissions
            and customer_id is not None
            and customer_id == self.customer_id
        )

    @property
    def actor(self) -> str:
        """How the audit trail names the caller."""
        if self.role is Role.CUSTOMER:
            return f"customer:{self.customer_id}:{self.subject}"
        return f"{self.role}:{self.subject}" if self.role else "anonymous"
