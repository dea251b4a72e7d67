"""On this day: the best of an event from today's date in an earlier year comes back as a
highlight, once, never with junk or deleted photos, never after a dismissal or an opt-out."""

from __future__ import annotations

from datetime import UTC, datetime

from gemroll_contracts import ON_THIS_DAY, SuggestionCreated, SuggestionKind
from gemroll_suggester.domain import ActionName, Consent
from gemroll_suggester.usecases import intake, user_actions
from gemroll_suggester.usecases.memories import plan_memories
from gemroll_suggester.usecases.previews import Previews

from .test_suggester_handlers import arrive, settle


def day(year: int, month: int = 3, dom: int = 14) -> datetime:
    return datetime(year, month, dom, 8, 0, tzinfo=UTC)


async def a_year_of_photos(world, kit, *, junk: int = 1):
    """A day of gems at T0 (14 Mar 2026), a blurry one among them, planned as usual."""
    world.state.consent[kit.USER] = Consent(kit.USER, True, 1, kit.T0)
    gems = [kit.classified(minutes=20 * i, seed=i, gem_score=0.9 - 0.05 * i) for i in range(4)]
    blurry = [kit.classified(minutes=90 + i, seed=50 + i, gem=False, gem_score=0.1)
              for i in range(junk)]
    await arrive(world, kit, *gems, *blurry)
    await settle(world)
    return gems, blurry


async def memories(world) -> int:
    return await plan_memories(world.deps, Previews(world.storage, world.deps.settings))


def memories_made(world):
    return [s for s in world.state.suggestions.values() if s.occasion == ON_THIS_DAY]


async def test_the_day_comes_back_a_year_later_once_with_its_best_photos(world, kit):
    gems, blurry = await a_year_of_photos(world, kit)
    assert await memories(world) == 0  # not the day
    world.clock.now = day(2027)
    assert await memories(world) == 1
    assert await memories(world) == 0  # made once, however often the pass runs
    [memory] = memories_made(world)
    assert memory.kind is SuggestionKind.highlight and memory.event_id is None
    assert memory.title.startswith("On this day, 1 year ago · ")
    assert set(memory.media_ids) <= {g.data.media_id for g in gems}
    assert not set(memory.media_ids) & {b.data.media_id for b in blurry}  # never junk
    assert memory.preview_object_key in world.storage.objects
    published = [e for e in world.published("gemroll.suggestions")
                 if isinstance(e, SuggestionCreated) and e.data.occasion == ON_THIS_DAY]
    assert [e.data.suggestion_id for e in published] == [memory.suggestion_id]
    world.clock.now = day(2027, dom=15)
    assert await memories(world) == 0  # the next day has nothing


async def test_two_years_later_it_comes_again_unless_dismissed(world, kit):
    await a_year_of_photos(world, kit)
    world.clock.now = day(2027)
    await memories(world)
    [first] = memories_made(world)
    world.clock.now = day(2028)
    assert await memories(world) == 1
    assert any(s.title.startswith("On this day, 2 years ago") for s in memories_made(world))
    second = next(s for s in memories_made(world) if s.suggestion_id != first.suggestion_id)
    await user_actions.act(world.deps, kit.USER, second.suggestion_id, ActionName.dismiss)
    world.clock.now = day(2029)
    assert await memories(world) == 0  # the user said no to this memory: it stays away


async def test_deleted_photos_never_come_back(world, kit):
    gems, _ = await a_year_of_photos(world, kit)
    deleted = gems[0].data.media_id
    await intake.media_removed(world.deps, kit.USER, [deleted])
    world.clock.now = day(2027)
    assert await memories(world) == 1
    [memory] = memories_made(world)
    assert deleted not in memory.media_ids


async def test_an_event_whose_highlight_was_dismissed_does_not_come_back(world, kit):
    await a_year_of_photos(world, kit)
    for s in world.suggestions():
        if s.kind in (SuggestionKind.highlight, SuggestionKind.collage):
            await user_actions.act(world.deps, kit.USER, s.suggestion_id, ActionName.dismiss)
    world.clock.now = day(2027)
    assert await memories(world) == 0


async def test_no_memory_after_an_opt_out(world, kit):
    await a_year_of_photos(world, kit)
    world.state.consent[kit.USER] = Consent(kit.USER, False, 2, kit.T0)
    world.clock.now = day(2027)
    assert await memories(world) == 0 and memories_made(world) == []


async def test_too_few_good_photos_make_no_memory(world, kit):
    world.state.consent[kit.USER] = Consent(kit.USER, True, 1, kit.T0)
    await arrive(world, kit, kit.classified(seed=1), kit.classified(minutes=5, seed=2,
                                                                        gem=False))
    await settle(world)
    world.clock.now = day(2027)
    assert await memories(world) == 0
