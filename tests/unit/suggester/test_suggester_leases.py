"""The planner's leases: a planner that died holds its events only until its short lease
runs out; a live one renews its leases while it works; one whose lease was taken over never
commits its plan (no second copy of a suggestion)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from gemroll_suggester.usecases.planning import Planner

from .test_suggester_handlers import afternoon, arrive


def lease_s(world) -> float:
    return world.deps.settings.planner_lease_seconds


async def claim_as(world, planner: Planner):
    async with world.uow() as tx:
        return await tx.events.claim_due(world.clock.now, 8, world.clock.now + timedelta(
            seconds=lease_s(world)), planner.owner)


async def test_a_dead_planners_events_are_taken_over_once_its_lease_ran_out(world, kit):
    assert lease_s(world) <= 30  # seconds, not the 5 minutes of before
    await arrive(world, kit, *afternoon(kit))
    world.clock.advance(61)
    dead, alive = Planner(world.deps), Planner(world.deps)
    assert len(await claim_as(world, dead)) == 1  # ... and then it is SIGKILLed
    assert await alive.run_once() == 0 and world.suggestions() == []
    world.clock.advance(lease_s(world) + 1)
    assert await alive.run_once() == 1
    assert world.suggestions()


async def test_a_planner_whose_lease_was_taken_over_does_not_commit(world, kit):
    await arrive(world, kit, *afternoon(kit))
    world.clock.advance(61)
    slow, other = Planner(world.deps), Planner(world.deps)
    [claimed] = await claim_as(world, slow)
    stale = await slow._snapshot(claimed)  # noqa: SLF001 - it read the event, then stalled
    world.clock.advance(lease_s(world) + 1)  # past its lease: the other planner takes over
    assert await other.run_once() == 1
    published = list(world.state.outbox)
    made = {s.suggestion_id: s.revision for s in world.suggestions()}
    assert made

    async def what_it_read(_event):
        return stale

    slow._snapshot = what_it_read  # noqa: SLF001
    await slow.plan(claimed)  # it wakes up and tries to commit its plan of the old state
    assert world.state.outbox == published
    assert {s.suggestion_id: s.revision for s in world.suggestions()} == made


async def test_a_working_planner_renews_its_leases_and_notices_lost_ones(world, kit):
    world.deps.settings = replace_settings(world, planner_lease_seconds=0.15)
    await arrive(world, kit, *afternoon(kit))
    world.clock.advance(61)
    planner, other = Planner(world.deps), Planner(world.deps)
    [claimed] = await claim_as(world, planner)
    world.clock.advance(10)  # its lease has run out on the clock, but it is still working
    renewing = asyncio.create_task(planner._renew({claimed.event_id}))  # noqa: SLF001
    await asyncio.sleep(0.2)  # more than a third of the lease of real time
    renewing.cancel()
    until, owner = world.state.leases[claimed.event_id]
    assert owner == planner.owner and until > world.clock.now
    assert await claim_as(world, other) == []  # renewed: not up for grabs
    world.state.leases[claimed.event_id] = (until, other.owner)  # taken over meanwhile
    async with world.uow() as tx:
        assert await tx.events.renew([claimed.event_id], planner.owner,
                                     world.clock.now + timedelta(seconds=1)) == set()


def replace_settings(world, **changes):
    return world.deps.settings.model_copy(update=changes)

