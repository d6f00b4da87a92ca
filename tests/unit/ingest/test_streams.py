"""read_ahead: the same items in the same order, producer errors raised to the consumer, and a
consumer that stops early stops the producer thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tiplab.streams import read_ahead


def test_items_arrive_whole_and_in_order() -> None:
    assert list(read_ahead(iter(range(1000)), depth=2)) == list(range(1000))
    assert list(read_ahead([])) == []


def test_a_producer_error_is_raised_in_the_consumer() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("stream cut short")

    ahead = read_ahead(items())
    assert [next(ahead), next(ahead)] == [1, 2]
    with pytest.raises(ValueError, match="stream cut short"):
        next(ahead)


def test_stopping_early_stops_the_producer() -> None:
    produced = []

    def items() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    gen = read_ahead(items(), depth=1, name="test-read-ahead")
    assert next(gen) == 0
    gen.close()  # the consumer gives up
    assert not any(t.name == "test-read-ahead" for t in threading.enumerate())
    assert len(produced) < 10  # it stopped a few items ahead, not at the end
