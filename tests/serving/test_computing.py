"""At most F1_SERVICE_COMPUTE_SLOTS answers are computed at once, however many threads ask."""

from __future__ import annotations

import threading
import time

import pytest

from serving.predictions import Computing


@pytest.mark.parametrize("slots", [1, 2])
def test_no_more_answers_computed_at_once_than_the_slots(slots: int) -> None:
    computing = Computing(slots)
    inside, most, done = 0, 0, 0
    lock = threading.Lock()
    start = threading.Barrier(8)

    def ask() -> None:
        nonlocal inside, most, done
        start.wait()
        for _ in range(20):
            with computing:
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.001)  # an answer being computed (the GIL released here)
                with lock:
                    inside -= 1
                    done += 1

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (most, inside, done) == (slots, 0, 160)


def test_a_resize_while_an_answer_is_computed_releases_what_was_taken() -> None:
    computing = Computing(1)
    with computing:
        computing.resize(3)  # as a new app's start-up does; the old semaphore is released
    for _ in range(3):
        assert computing.slots.acquire(blocking=False)
    assert not computing.slots.acquire(blocking=False)
