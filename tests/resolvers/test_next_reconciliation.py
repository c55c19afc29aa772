"""The next reconciliation date a license sync answers with, as the daily job will run it."""

from datetime import date

import pytest

from billing.charges import Term
from resolvers.syncs import _next_reconciliation


@pytest.mark.parametrize(
    ("term", "quarterly", "reconciled", "expected"),
    [
        (Term(date(2026, 3, 15), date(2027, 3, 15)), True, 0, date(2026, 6, 15)),
        (Term(date(2026, 3, 15), date(2027, 3, 15)), True, 3, date(2027, 3, 15)),
        (Term(date(2026, 3, 15), date(2027, 3, 15)), False, 0, date(2027, 3, 15)),
        # a year anchored on the 29th (bought on 2028-02-29): the job reconciles it on the 29th
        (Term(date(2031, 2, 28), date(2032, 2, 29)), True, 0, date(2031, 5, 29)),
        (Term(date(2031, 2, 28), date(2032, 2, 29)), True, 2, date(2031, 11, 29)),
        # a month is never reconciled: its end date
        (Term(date(2026, 3, 15), date(2026, 4, 15)), True, 0, date(2026, 4, 15)),
    ],
)
def test_next_reconciliation(term: Term, quarterly: bool, reconciled: int, expected: date) -> None:
    assert _next_reconciliation(term, quarterly, reconciled) == expected
