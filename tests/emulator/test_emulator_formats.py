"""BILL's wire formats: ids, timestamps, filter date-times, money, masked account numbers."""

from __future__ import annotations

import json
import re

import pytest

from bill_emulator.formats import (
    SeedRandom,
    format_time,
    mask_account_number,
    money,
    new_id,
    parse_filter_time,
)

ID = re.compile(r"^[0-9a-z]{3}02[A-Za-z0-9]{15}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")


def test_ids_are_prefix_02_and_15_alphanumerics() -> None:
    rng = SeedRandom(7)
    ids = [new_id("00n", rng) for _ in range(2000)]
    assert all(len(i) == 20 and ID.match(i) and i.startswith("00n02") for i in ids)
    assert len(set(ids)) == len(ids)


def test_ids_are_deterministic_for_a_seed() -> None:
    assert new_id("009", SeedRandom("x")) == new_id("009", SeedRandom("x"))
    assert new_id("009", SeedRandom("x")) != new_id("009", SeedRandom("y"))


def test_timestamps_have_milliseconds_and_a_utc_offset() -> None:
    assert format_time(1_783_916_974_000) == "2026-07-13T04:29:34.000+00:00"
    assert format_time(1_783_916_974_127) == "2026-07-13T04:29:34.127+00:00"
    assert TIMESTAMP.match(format_time(0))


@pytest.mark.parametrize(
    "value",
    [
        "2026-07-13T04:29:34.000Z",
        "2026-07-13T04:29:34.000+00:00",
        "2026-07-13T06:29:34.000+02:00",
        "2026-07-12T23:29:34.000-0500",
        "2026-07-13T04:29:34.000",
        "2026-07-13T04:29:34",
    ],
)
def test_every_documented_filter_date_time_form_is_read_as_an_instant(value: str) -> None:
    assert parse_filter_time(value) == "2026-07-13T04:29:34.000+00:00"


def test_short_forms_mean_the_start_of_the_minute_or_day_in_utc() -> None:
    assert parse_filter_time("2026-07-13T04:29") == "2026-07-13T04:29:00.000+00:00"
    assert parse_filter_time("2026-07-13") == "2026-07-13T00:00:00.000+00:00"


@pytest.mark.parametrize("value", ["13/07/2026", "2026-07-13 04:29", "yesterday", ""])
def test_other_date_time_forms_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="date-time"):
        parse_filter_time(value)


def test_money_serialises_as_exact_decimal_text() -> None:
    amounts = [money(c) for c in (123450, 9999, 1, 10, 100, 1234567891)]
    assert json.dumps(amounts) == "[1234.5, 99.99, 0.01, 0.1, 1.0, 12345678.91]"
    total = sum(c for c in (1, 2)) / 100  # sums are made in cents, never as floats
    assert json.dumps(total) == "0.03"


def test_account_numbers_show_only_their_last_four_digits() -> None:
    assert mask_account_number("0123456789") == "xxxxxx6789"
    assert mask_account_number("987654321012") == "xxxxxx1012"
