"""Pure rules: geography, titles, grouping, bursts, diversity, planning, reconciling, actions."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from gemroll_contracts import EditRecipe, SuggestionKind
from gemroll_suggester.domain import (
    ActionName,
    ActionRefused,
    EventRecord,
    GroupingRules,
    MediaItem,
    Moment,
    PlanRules,
    SuggestionStatus,
    collapse_bursts,
    decide,
    edit_draft,
    geo,
    group_into_events,
    plan_event,
    reconcile,
    select_diverse,
    titles,
)
from gemroll_suggester.domain.grouping import place
from gemroll_suggester.domain.model import suggestion_id_for
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2026, 3, 14, 13, 0, tzinfo=UTC)  # Saturday
USER = "c" * 32
LISBON = geo.encode(38.72, -9.14, 5)
PORTO = geo.encode(41.15, -8.61, 5)


def item(n: int = 0, *, minutes: float = 0, where: str | None = LISBON, gem: bool = True,
         score: float = 0.8, quality: float | None = 0.8, nsfw: float | None = 0.0,
         group: uuid.UUID | None = None, best: bool = True,
         emb: tuple[float, ...] | None = None, event: uuid.UUID | None = None) -> MediaItem:
    return MediaItem(
        media_id=uuid.UUID(int=n + 1), user_key=USER, bucket="b" * 3, object_key=f"k{n}",
        width=300, height=200, taken_at=T0 + timedelta(minutes=minutes), coarse_location=where,
        category="photo", quality_score=quality, duplicate_group=group, is_best_in_group=best,
        nsfw_score=nsfw, face_count=0, embedding=emb, gem_score=score, is_gem=gem,
        classified_event_id=uuid.uuid4(), classified_at=T0, event_id=event,
    )


EVENT = EventRecord(uuid.UUID(int=999), USER, T0, T0 + timedelta(hours=2))


# --- geography and titles ----------------------------------------------------------------------

def test_geohash_round_trip_and_cells():
    assert geo.encode(57.64911, 10.40744, 5) == "u4pru"
    cell = geo.decode("u4pru")
    assert cell.lat_min <= 57.64911 <= cell.lat_max and cell.lon_min <= 10.40744 <= cell.lon_max
    with pytest.raises(ValueError):
        geo.decode("u4pra")  # 'a' is not in the alphabet


def test_distances_between_cells():
    assert geo.min_distance_km(LISBON, LISBON) == 0
    assert geo.min_distance_km(LISBON[:3], LISBON) == 0  # a cell contains its children
    assert 250 < geo.min_distance_km(LISBON, PORTO) < 290


def test_place_names_are_offline_and_only_for_fine_cells():
    assert geo.place_name(LISBON) == "Lisbon"
    assert geo.place_name(geo.encode(35.68, 139.69, 4)) == "Tokyo"
    assert geo.place_name(LISBON[:3]) is None  # too coarse to name
    assert geo.place_name(geo.encode(-45.0, -120.0, 5)) is None  # the middle of the Pacific


def test_local_time_uses_the_place():
    assert geo.local_time(T0, LISBON).hour == 13
    assert geo.local_time(T0, geo.encode(35.68, 139.69, 5)).hour == 22  # Tokyo, UTC+9
    assert geo.local_time(T0, geo.encode(-45.0, -120.0, 5)).hour == 5  # solar time, UTC-8
    assert geo.local_time(T0, None).hour == 13


def test_titles_from_time_and_place():
    assert titles.title(SuggestionKind.highlight, T0, T0 + timedelta(hours=2), [LISBON]) == (
        "Saturday afternoon, 14 Mar 2026 · Lisbon")
    assert titles.title(SuggestionKind.collage, T0, T0, [None]) == (
        "Collage · Saturday afternoon, 14 Mar 2026")
    assert titles.title(SuggestionKind.edit, T0 - timedelta(hours=5), T0 - timedelta(hours=5),
                        []) == "Enhanced photo · Saturday morning, 14 Mar 2026"
    assert titles.title(SuggestionKind.highlight, T0 - timedelta(hours=6), T0 + timedelta(hours=6),
                        [PORTO, PORTO, LISBON]) == "Saturday, 14 Mar 2026 · Porto"
    assert titles.title(SuggestionKind.highlight, T0, T0 + timedelta(days=2), []) == (
        "14–16 Mar 2026")
    assert titles.title(SuggestionKind.highlight, T0 - timedelta(days=14), T0, []) == (
        "28 Feb – 14 Mar 2026")
    assert titles.title(SuggestionKind.highlight, T0 - timedelta(days=90), T0, []) == (
        "14 Dec 2025 – 14 Mar 2026")


# --- grouping ------------------------------------------------------------------------------------

RULES = GroupingRules(gap=timedelta(hours=3), max_distance_km=25)


def moment(n: int, hours: float, where: str | None = LISBON) -> Moment:
    return Moment(uuid.UUID(int=n + 1), T0 + timedelta(hours=hours), where)


def test_events_split_on_time_gaps_and_place_changes():
    moments = [moment(0, 0), moment(1, 1), moment(2, 2.5),  # one afternoon in Lisbon
               moment(3, 6),  # 3.5 h later: a new event
               moment(4, 6.5, PORTO),  # an hour's drive away: another one
               moment(5, 7, None)]  # unknown place links by time alone
    groups = group_into_events(moments, RULES)
    assert [[m.media_id.int - 1 for m in g] for g in groups] == [[0, 1, 2], [3, 4, 5]]
    assert [[m.media_id.int - 1 for m in g]
            for g in group_into_events(moments[:5], RULES)] == [[0, 1, 2], [3], [4]]


def test_a_bridging_photo_links_two_events():
    assert place(moment(9, 3), [replace(moment(0, 0.5), event_id=uuid.UUID(int=1)),
                                replace(moment(1, 5.5), event_id=uuid.UUID(int=2))], RULES) == [
        uuid.UUID(int=1), uuid.UUID(int=2)]
    assert place(moment(9, 10), [replace(moment(0, 0), event_id=uuid.UUID(int=1))], RULES) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 24), st.sampled_from([LISBON, PORTO, None])),
                min_size=1, max_size=25), st.randoms())
def test_placing_one_by_one_in_any_order_equals_grouping_at_once(photos, rnd):
    """Events are connected components: arrival order does not matter."""
    moments = [moment(i, h, w) for i, (h, w) in enumerate(photos)]
    arrival = list(moments)
    rnd.shuffle(arrival)
    event_of: dict[uuid.UUID, uuid.UUID] = {}
    for m in arrival:
        placed = [replace(o, event_id=event_of[o.media_id]) for o in moments
                  if o.media_id in event_of]
        linked = place(m, placed, RULES)
        target = linked[0] if linked else m.media_id
        for mid, eid in list(event_of.items()):  # merge the bridged events
            if eid in linked:
                event_of[mid] = target
        event_of[m.media_id] = target
    incremental = sorted(sorted(str(k) for k, v in event_of.items() if v == e)
                         for e in set(event_of.values()))
    batch = sorted(sorted(str(m.media_id) for m in g) for g in group_into_events(moments, RULES))
    assert incremental == batch


def test_bursts_keep_the_highest_quality_shot_whatever_the_flag_says():
    burst = uuid.uuid4()
    flagged = item(0, group=burst, quality=0.5, best=True)
    sharper = item(1, group=burst, quality=0.9, best=False)
    single = item(2)
    kept = collapse_bursts([flagged, sharper, single])
    assert {m.media_id for m in kept} == {sharper.media_id, single.media_id}


def test_diverse_selection_skips_look_alikes():
    a, b, c = (1.0, 0.0), (0.999, 0.0447), (0.0, 1.0)
    photos = [item(0, score=0.9, emb=a), item(1, score=0.89, emb=b), item(2, score=0.5, emb=c)]
    chosen = select_diverse(photos, 2)
    assert [m.media_id.int - 1 for m in chosen] == [0, 2]
    assert len(select_diverse(photos, 5)) == 2  # the near-duplicate never gets in
    assert [m.media_id.int - 1 for m in select_diverse(photos[:2], 2, near_duplicate=1.01)] == [
        0, 1]


# --- planning ------------------------------------------------------------------------------------

RULES_PLAN = PlanRules(highlight_size=4, highlight_min=3, collage_size=3, collage_min=2,
                       edits_per_event=2, nsfw_threshold=0.5)


def test_plan_uses_only_gems_and_keeps_nsfw_out_of_sharing():
    photos = [item(0, score=0.9), item(1, score=0.8, minutes=5), item(2, score=0.7, minutes=9),
              item(3, gem=False, score=0.99), item(4, nsfw=0.9, score=0.95),
              item(5, quality=None, score=0.97), item(6, nsfw=None, score=0.96)]
    plan = plan_event(EVENT, photos, RULES_PLAN)
    assert plan.highlight is not None and plan.collage is not None
    assert set(plan.highlight.media_ids) == {uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)}
    assert plan.highlight.media_ids == tuple(sorted(plan.highlight.media_ids,
                                                    key=lambda m: m.int))  # by time
    assert len(plan.collage.media_ids) == 3
    # edits may use the NSFW photo (it stays private) but never the non-gem or unreadable one
    assert [m.media_id.int - 1 for m in plan.edit_candidates] == [6, 4]
    allowed = plan_event(EVENT, photos, replace(RULES_PLAN, nsfw_unknown_is_safe=True))
    assert uuid.UUID(int=7) in allowed.highlight.media_ids


def test_too_few_gems_make_no_highlight_or_collage():
    plan = plan_event(EVENT, [item(0), item(1, gem=False)], RULES_PLAN)
    assert plan.highlight is None and plan.collage is None
    assert len(plan.edit_candidates) == 1
    two = plan_event(EVENT, [item(0), item(1, minutes=3)], RULES_PLAN)
    assert two.highlight is None and two.collage is not None


def test_photos_with_an_edit_are_not_candidates_again():
    plan = plan_event(EVENT, [item(0), item(1)], RULES_PLAN,
                      edited_media=frozenset({uuid.UUID(int=1)}))
    assert [m.media_id for m in plan.edit_candidates] == [uuid.UUID(int=2)]


def test_edit_drafts_only_for_visible_improvements():
    neutral = EditRecipe(exposure=0.05, contrast=1.02, saturation=1.0,
                         white_balance=(1.0, 1.0, 1.01), rotate_degrees=0.2)
    assert edit_draft(item(0), neutral, RULES_PLAN) is None
    draft = edit_draft(item(0, nsfw=0.9), neutral.model_copy(update={"exposure": 0.6}), RULES_PLAN)
    assert draft is not None and draft.kind is SuggestionKind.edit and not draft.shareable
    assert draft.suggestion_id == suggestion_id_for(SuggestionKind.edit, uuid.UUID(int=1))


def test_reconcile_creates_keeps_revises_and_withdraws():
    now = T0 + timedelta(days=1)
    photos = [item(i, minutes=i) for i in range(4)]
    first = reconcile(EVENT, [], plan_event(EVENT, photos[:3], RULES_PLAN).drafts, now)
    assert {c.record.kind for c in first} == {SuggestionKind.highlight, SuggestionKind.collage}
    assert all(c.is_new and c.publish and c.render and c.record.revision == 1 for c in first)
    stored = [replace(c.record, preview_object_key="p") for c in first]

    again = reconcile(EVENT, stored, plan_event(EVENT, photos[:3], RULES_PLAN).drafts, now)
    assert again == []  # same plan: nothing to do (redelivery, re-planning)

    late = reconcile(EVENT, stored, plan_event(EVENT, photos, RULES_PLAN).drafts, now)
    highlight = [c for c in late if c.record.kind is SuggestionKind.highlight]
    assert len(highlight) == 1 and highlight[0].record.revision == 2
    assert highlight[0].record.suggestion_id == suggestion_id_for(SuggestionKind.highlight,
                                                                  EVENT.event_id)
    assert highlight[0].drop_preview == "p" and highlight[0].publish

    gone = reconcile(EVENT, stored, plan_event(EVENT, photos[:1], RULES_PLAN).drafts, now)
    assert {c.record.status for c in gone} == {SuggestionStatus.withdrawn}
    assert not any(c.publish for c in gone)


def test_reconcile_leaves_what_the_user_acted_on():
    now = T0 + timedelta(days=1)
    photos = [item(i, minutes=i) for i in range(4)]
    created = reconcile(EVENT, [], plan_event(EVENT, photos[:3], RULES_PLAN).drafts, now)
    saved = [replace(c.record, status=SuggestionStatus.saved, preview_object_key="p")
             for c in created]
    assert reconcile(EVENT, saved, plan_event(EVENT, photos, RULES_PLAN).drafts, now) == []
    # a removed photo: the saved suggestion keeps the rest and gets a new preview
    stale = [replace(s, media_ids=s.media_ids[1:], stale=True, preview_object_key=None)
             for s in saved]
    changes = reconcile(EVENT, stale, [], now)
    assert all(c.render and c.publish and c.record.revision == 2 for c in changes)
    assert all(c.record.status is SuggestionStatus.saved for c in changes)


# --- actions -------------------------------------------------------------------------------------

def suggestion(kind: SuggestionKind, status: SuggestionStatus = SuggestionStatus.proposed,
               *, shareable: bool = True, actions: frozenset[ActionName] = frozenset()):
    created = reconcile(EVENT, [], plan_event(EVENT, [item(i, minutes=i) for i in range(3)],
                                              RULES_PLAN).drafts, T0)[0].record
    return replace(created, kind=kind, status=status, shareable=shareable, actions=actions)


@pytest.mark.parametrize(("kind", "status", "action", "expected"), [
    (SuggestionKind.highlight, SuggestionStatus.proposed, ActionName.save, SuggestionStatus.saved),
    (SuggestionKind.highlight, SuggestionStatus.proposed, ActionName.share,
     SuggestionStatus.shared),
    (SuggestionKind.collage, SuggestionStatus.saved, ActionName.share, SuggestionStatus.shared),
    (SuggestionKind.collage, SuggestionStatus.shared, ActionName.save, SuggestionStatus.shared),
    (SuggestionKind.edit, SuggestionStatus.proposed, ActionName.edit, SuggestionStatus.edited),
    (SuggestionKind.edit, SuggestionStatus.edited, ActionName.save, SuggestionStatus.saved),
    (SuggestionKind.edit, SuggestionStatus.proposed, ActionName.dismiss,
     SuggestionStatus.dismissed),
])
def test_allowed_transitions(kind, status, action, expected):
    decision = decide(suggestion(kind, status), action)
    assert decision.applied and decision.status is expected
    assert decision.needs_rendition == (kind is SuggestionKind.edit
                                        and action is not ActionName.dismiss)


@pytest.mark.parametrize(("kind", "status", "action", "code"), [
    (SuggestionKind.highlight, SuggestionStatus.proposed, ActionName.edit, "action_not_applicable"),
    (SuggestionKind.collage, SuggestionStatus.withdrawn, ActionName.save, "suggestion_withdrawn"),
    (SuggestionKind.collage, SuggestionStatus.dismissed, ActionName.save, "suggestion_dismissed"),
    (SuggestionKind.collage, SuggestionStatus.saved, ActionName.dismiss, "already_accepted"),
])
def test_refused_transitions(kind, status, action, code):
    with pytest.raises(ActionRefused) as refused:
        decide(suggestion(kind, status), action)
    assert refused.value.code == code


def test_sharing_needs_shareable_photos_and_repeats_are_no_ops():
    with pytest.raises(ActionRefused, match="may not be shared"):
        decide(suggestion(SuggestionKind.edit, shareable=False), ActionName.share)
    repeat = decide(suggestion(SuggestionKind.highlight, SuggestionStatus.saved,
                               actions=frozenset({ActionName.save})), ActionName.save)
    assert not repeat.applied and repeat.status is SuggestionStatus.saved
    dismissed = suggestion(SuggestionKind.highlight, SuggestionStatus.dismissed,
                           actions=frozenset({ActionName.dismiss}))
    assert not decide(dismissed, ActionName.dismiss).applied
