"""Observing Kit events: the one way the Kit layer subscribes (``carb.eventdispatcher``, on Isaac Sim 5.1 and 6.0).

An observer lives as long as the returned guard; dropping or ``reset()``-ing it unsubscribes.
"""

from __future__ import annotations

from collections.abc import Callable

import carb.eventdispatcher
import omni.usd


def observe(event_name: str, on_event: Callable[[], None], observer_name: str) -> carb.eventdispatcher.ObserverGuard:
    """Call ``on_event()`` for every event named ``event_name``."""
    return carb.eventdispatcher.get_eventdispatcher().observe_event(
        event_name=event_name, on_event=lambda _: on_event(), observer_name=observer_name
    )


def observe_stage(
    event: omni.usd.StageEventType, on_event: Callable[[], None], observer_name: str
) -> carb.eventdispatcher.ObserverGuard:
    """Call ``on_event()`` for every ``event`` of the default USD context's stage (opened, closing, selection...)."""
    return observe(omni.usd.get_context().stage_event_name(event), on_event, observer_name)
