"""R15 (README, Retention): with purge between rounds of conversions and store edits,
HQ and the channel databases keep the same rows and bytes per customer."""

import pytest

from devtools.growth import growth_rounds

pytestmark = pytest.mark.django_db(databases="__all__")


def test_rows_and_bytes_per_customer_stay_flat_from_round_two(organization):
    figures = growth_rounds(rounds=5, customers=10, log=print)

    second = figures[1]
    for figure in figures[2:]:
        for key in (
            "hq_rows_per_customer",
            "hq_bytes_per_customer",
            "channel_rows_per_customer",
            "channel_bytes_per_customer",
        ):
            assert figure[key] <= second[key] * 1.05, (key, figures)
    # The edits did happen and were purged once applied: customers grew every round.
    assert [f["customers"] for f in figures] == [1 + 20 * r for r in range(1, 6)]
