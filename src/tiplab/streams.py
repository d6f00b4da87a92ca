"""Small helpers for streaming work between threads."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass
class _Failed:
    error: BaseException


_END = object()


def read_ahead(items: Iterable[T], depth: int = 2,
               name: str = "tiplab-read-ahead") -> Iterator[T]:
    """Yield ``items`` while a thread of their own produces up to ``depth`` ahead.

    For producers that release the GIL (DuckDB computing the next chunk, a pipe being read):
    they work while the consumer handles the current item. An exception in the producer is
    raised in the consumer; a consumer that stops early stops the producer (after the item it
    is producing, if any).
    """
    ahead: queue.Queue[object] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # re-raised in the consumer's thread
            put(_Failed(exc))

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    try:
        while True:
            got = ahead.get()
            if got is _END:
                return
            if isinstance(got, _Failed):
                raise got.error
            yield got  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
