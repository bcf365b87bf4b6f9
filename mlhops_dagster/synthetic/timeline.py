"""Time as epoch seconds: units, the extract window, and dates and timestamps formatted as
Synthea writes them (``YYYY-MM-DD`` / ``YYYY-MM-DDTHH:MM:SSZ``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa

from mlhops_dagster.synthetic.arrays import byte_strings, digits

DAY = 86_400
YEAR = 365.25 * DAY
HOUR = 3_600
NEVER = np.iinfo(np.int64).max
"""Onset of a condition the patient never has."""


_TWO_DIGITS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8)


@dataclass(frozen=True)
class Window:
    """The extract period in epoch seconds: [start_s, end_s) covers whole calendar days."""

    start_s: int
    end_s: int

    @classmethod
    def of(cls, start: date, end: date) -> Window:
        def epoch(day: date) -> int:
            return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())

        return cls(epoch(start), epoch(end) + DAY)


def civil_date(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of days since 1970-01-01 (proleptic Gregorian, Hinnant's algorithm)."""
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SSZ`` strings. pyarrow's strftime is ~50x slower at millions of
    rows, so each distinct day is formatted once and times come from a two-digit table."""
    days, second_of_day = np.divmod(np.asarray(seconds, dtype=np.int64), DAY)
    rows = np.tile(np.frombuffer(b"0000-00-00T00:00:00Z", dtype=np.uint8), (len(days), 1))
    if len(days):
        first = days.min()
        calendar_days = np.arange(first, days.max() + 1)
        year, month, day = civil_date(calendar_days)
        calendar = np.asarray(digits("0000-00-00", ((0, 4, year), (5, 2, month), (8, 2, day))).buffers()[2]).reshape(
            -1, 10
        )
        rows[:, :10] = calendar[days - first]
        for position, value in ((11, second_of_day // HOUR), (14, second_of_day // 60 % 60), (17, second_of_day % 60)):
            rows[:, position : position + 2] = _TWO_DIGITS[value]
    return byte_strings(rows, valid)


def dates(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Calendar dates (written as ``YYYY-MM-DD``) of epoch seconds."""
    days = (np.asarray(seconds, dtype=np.int64) // DAY).astype(np.int32)
    return pa.array(days, type=pa.date32(), mask=None if valid is None else ~valid)


def day_start(seconds: np.ndarray) -> np.ndarray:
    return seconds - seconds % DAY


def patient_time(patient: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Sortable (patient, time) key, to find a patient's events around a time by binary
    search. Times are clipped into 1970-2106 (the extract window is validated to lie there)."""
    return (patient.astype(np.int64) << 32) | np.clip(seconds, 0, 2**32 - 1)
