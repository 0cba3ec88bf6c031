"""One click per token per window, in bounded memory."""

from __future__ import annotations

from resolver.usage.recording import RecentClicks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_replay_within_the_window_counts_once_and_again_after_it():
    clock = Clock()
    recent = RecentClicks(window=600, clock=clock)
    assert recent.first("token-a")
    assert not recent.first("token-a")
    assert recent.first("token-b")  # another token is another click
    clock.now += 599
    assert not recent.first("token-a")
    clock.now += 2
    assert recent.first("token-a")  # the window has passed: a new visit


def test_memory_is_bounded_and_expired_keys_are_dropped():
    clock = Clock()
    recent = RecentClicks(window=600, size=100, clock=clock)
    for i in range(1000):
        recent.first(f"t{i}")
    assert len(recent) == 100
    assert recent.first("t0")  # the oldest were forgotten first
    assert not recent.first("t999")
    clock.now += 601
    recent.first("new")
    assert len(recent) == 1
