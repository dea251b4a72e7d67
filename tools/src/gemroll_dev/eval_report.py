"""The evaluation report on a sliced roll (the holdout): per class and per slice, with Wilson
95 % confidence intervals, the burst check, and the issue's aims, met or not.

`holdout_report(manifest, results, gems, elapsed)` prints and returns a JSON-ready summary.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from typing import Any

from gemroll_contracts import MediaClassifiedData

NAMESPACE = uuid.UUID("9a0c3d8e-1f2b-4c5d-8e7f-6a5b4c3d2e1f")  # media ids of the eval uploads
CATEGORIES = ("photo", "screenshot", "document")
PREDICTED = (*CATEGORIES, "other")
AIMS = {"gem_precision": 0.95, "gem_recall": 0.85, "junk_recall": 0.9}
JUNK = ("screenshot", "document", "blurry", "dark")
# The issue's slices first, in its order; the others follow alphabetically.
ISSUE_SLICES = ("no_exif", "chat_copy", "bw", "night", "macro_bokeh", "fog", "photo_of_screen",
                "receipt_on_table", "feed_screenshot", "burst", "blur_motion", "blur_shake",
                "blur_defocus", "blur_2-5px", "blur_5-20px", "dark", "low_key", "avif", "heic",
                "png16", "cmyk", "icc", "rotated", "12mp")
MISSES_SHOWN = 6


def print_confusion(confusion: Counter) -> None:
    print("\nconfusion matrix (rows: truth, columns: predicted)")
    print(f"{'':12s}" + "".join(f"{p:>12s}" for p in PREDICTED))
    for t in CATEGORIES:
        print(f"{t:12s}" + "".join(f"{confusion[(t, p)]:12d}" for p in PREDICTED))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(k: int, n: int) -> dict[str, Any]:
    lo, hi = wilson(k, n)
    return {"value": k / n if n else float("nan"), "k": k, "n": n, "ci95": [lo, hi]}


def _fmt(r: dict[str, Any]) -> str:
    if not r["n"]:
        return f"{'-':>6s} {'':17s}"
    lo, hi = r["ci95"]
    return f"{r['value']:6.3f} [{lo:.3f}, {hi:.3f}]{'':1s}"


def _flag(r: MediaClassifiedData, quality: str) -> bool:
    return any(x.startswith(f"{quality}:") for x in r.reasons)


def holdout_report(manifest: Any, results: list[MediaClassifiedData], gems: set[uuid.UUID],
                   elapsed: float) -> dict[str, Any]:
    by_id = {uuid.uuid5(NAMESPACE, i.id): i for i in manifest.items if i.category != "video"}
    got = {r.media_id: r for r in results if r.media_id in by_id}
    pairs = [(by_id[m], got[m], m) for m in by_id if m in got]
    summary: dict[str, Any] = {"roll": manifest.generator, "seed": manifest.seed,
                               "items": len(pairs), "elapsed_s": round(elapsed, 1)}
    print(f"\n{len(pairs)} items of the holdout roll (seed {manifest.seed}) classified in "
          f"{elapsed:.1f}s; labels: {manifest.counts()}")
    if missing := len(by_id) - len(pairs):
        print(f"  {missing} items got no result")

    confusion = Counter((i.category.value, r.category.value) for i, r, _ in pairs)
    print_confusion(confusion)
    summary["confusion"] = {t: {p: confusion[(t, p)] for p in PREDICTED} for t in CATEGORIES}

    classes: dict[str, Any] = {}
    print(f"\n{'class':14s}{'precision [95% CI]':>24s}{'recall [95% CI]':>24s}{'support':>9s}")
    for c in CATEGORIES:
        tp = confusion[(c, c)]
        predicted = sum(confusion[(t, c)] for t in CATEGORIES)
        support = sum(confusion[(c, p)] for p in PREDICTED)
        classes[c] = {"precision": rate(tp, predicted), "recall": rate(tp, support)}
        print(f"{c:14s}{_fmt(classes[c]['precision']):>24s}{_fmt(classes[c]['recall']):>24s}"
              f"{support:9d}")
    photos = [(i, r, m) for i, r, m in pairs if i.category.value == "photo"]
    for quality in ("blurry", "dark"):
        truth = [(i, r) for i, r, _ in photos if i.quality.value == quality]
        flagged = [(i, r) for i, r, _ in photos if _flag(r, quality)]
        classes[quality] = {
            "precision": rate(sum(i.quality.value == quality for i, _ in flagged), len(flagged)),
            "recall": rate(sum(_flag(r, quality) for _, r in truth), len(truth)),
            "not_gem": rate(sum(not r.is_gem for _, r in truth), len(truth))}
        print(f"{quality + ' (flag)':14s}{_fmt(classes[quality]['precision']):>24s}"
              f"{_fmt(classes[quality]['recall']):>24s}{len(truth):9d}")
    expected = {m for i, _, m in pairs if i.expected_gem}
    predicted_gems = gems & set(got)
    tp = len(predicted_gems & expected)
    classes["gem"] = {"precision": rate(tp, len(predicted_gems)),
                      "recall": rate(tp, len(expected))}
    print(f"{'gem':14s}{_fmt(classes['gem']['precision']):>24s}"
          f"{_fmt(classes['gem']['recall']):>24s}{len(expected):9d}")
    summary["classes"] = classes
    for c in ("screenshot", "document"):
        items = [r for i, r, _ in pairs if i.category.value == c]
        classes[c]["not_gem"] = rate(sum(not r.is_gem for r in items), len(items))
    wrong = Counter(by_id[m].junk_reason.value if by_id[m].junk_reason else "?"
                    for m in predicted_gems - expected)
    if wrong:
        print(f"  junk suggested as gems, by kind: {dict(wrong)}")
    missed = Counter(_first_reason(got[m]) for m in expected - predicted_gems)
    if missed:
        print(f"  expected gems missed, by first reason: {dict(missed.most_common(6))}")

    summary["slices"] = _slices(pairs, gems)
    summary["bursts"] = _bursts(by_id, got, results)
    summary["aims"] = _aims(classes, summary["bursts"])
    return summary


def _slices(pairs: list[tuple[Any, MediaClassifiedData, uuid.UUID]], gems: set[uuid.UUID]
            ) -> dict[str, Any]:
    members: dict[str, list[tuple[Any, MediaClassifiedData, uuid.UUID]]] = defaultdict(list)
    for pair in pairs:
        for s in pair[0].slices:
            members[s].append(pair)
    order = [s for s in ISSUE_SLICES if s in members] + sorted(
        s for s in members if s not in ISSUE_SLICES)
    print(f"\n{'slice':22s}{'n':>5s}{'decision acc.':>24s}{'gem precision':>24s}"
          f"{'gem recall':>24s}{'junk caught':>24s}")
    out: dict[str, Any] = {}
    for s in order:
        rows = members[s]
        right = sum((m in gems) == i.expected_gem for i, _, m in rows)
        expected = [m for i, _, m in rows if i.expected_gem]
        chosen = [m for _, _, m in rows if m in gems]
        junk = [m for i, _, m in rows if not i.expected_gem]
        entry = {"n": len(rows), "accuracy": rate(right, len(rows)),
                 "gem_precision": rate(sum(m in set(expected) for m in chosen), len(chosen)),
                 "gem_recall": rate(sum(m in gems for m in expected), len(expected)),
                 "junk_caught": rate(sum(m not in gems for m in junk), len(junk)),
                 "misses": [_miss(i, r, m in gems) for i, r, m in rows
                            if (m in gems) != i.expected_gem]}
        out[s] = entry
        print(f"{s:22s}{len(rows):5d}{_fmt(entry['accuracy']):>24s}"
              f"{_fmt(entry['gem_precision']):>24s}{_fmt(entry['gem_recall']):>24s}"
              f"{_fmt(entry['junk_caught']):>24s}")
    print("\nmisses by slice (item variant: expected -> got; category; reasons)")
    for s in order:
        misses = out[s]["misses"]
        if not misses:
            continue
        shown = "; ".join(f"{m['id']} {m['variant']}: {m['expected']}->{m['got']} "
                          f"{m['category']} {_telling(m)}"
                          for m in misses[:MISSES_SHOWN])
        more = f" (+{len(misses) - MISSES_SHOWN} more)" if len(misses) > MISSES_SHOWN else ""
        print(f"  {s} [{len(misses)}]: {shown}{more}")
    return out


def _telling(miss: dict[str, Any]) -> str:
    """The reasons that say why (not the category, which the line says), else the score."""
    why = [x for x in miss["reasons"] if not x.startswith("photo:")][:2]
    return ",".join(why) if why else f"score {miss['gem_score']:.2f}"


def _miss(item: Any, r: MediaClassifiedData, gem: bool) -> dict[str, Any]:
    def word(is_gem: bool) -> str:
        return "gem" if is_gem else "junk"

    return {"id": item.id, "variant": item.variant, "file": item.file_name,
            "expected": word(item.expected_gem), "got": word(gem),
            "label": f"{item.category.value}/{item.quality.value}",
            "category": r.category.value, "gem_score": round(r.gem_score, 3),
            "reasons": [x for x in r.reasons if not x.startswith("gem:")][:6]}


def _bursts(by_id: dict[uuid.UUID, Any], got: dict[uuid.UUID, MediaClassifiedData],
            results: list[MediaClassifiedData]) -> dict[str, Any]:
    bursts: dict[str, list[uuid.UUID]] = defaultdict(list)
    for m, item in by_id.items():
        if item.burst_id:
            bursts[item.burst_id].append(m)
    one_group = one_best = intended = 0
    failures = []
    for burst_id, members in sorted(bursts.items()):
        groups = {got[m].duplicate_group for m in members if m in got}
        latest: dict[Any, uuid.UUID] = {}
        for r in results:
            if r.media_id in members and r.is_best_in_group:
                latest[r.duplicate_group] = r.media_id
        grouped, single = len(groups) == 1, len(latest) == 1
        right = single and by_id[next(iter(latest.values()))].is_best_shot
        one_group += grouped
        one_best += grouped and single
        intended += right
        if not (grouped and single and right):
            failures.append({"burst": burst_id, "frames": len(members), "groups": len(groups),
                             "picks": [by_id[m].id for m in latest.values()]})
    n = len(bursts)
    print(f"\nbursts: {n}; grouped together {one_group}/{n}; exactly one pick {one_best}/{n}; "
          f"the intended best picked {intended}/{n}")
    for f in failures:
        print(f"  {f['burst']}: {f['frames']} frames in {f['groups']} group(s), "
              f"picked {f['picks'] or 'none'}")
    return {"count": n, "one_group": one_group, "one_pick": one_best, "intended_best": intended,
            "failures": failures}


def _aims(classes: dict[str, Any], bursts: dict[str, Any]) -> dict[str, Any]:
    checks = {
        "gem precision >= 0.95": classes["gem"]["precision"],
        "gem recall >= 0.85": classes["gem"]["recall"],
        **{f"{c} recall >= 0.9": classes[c]["recall"] for c in JUNK},
    }
    aims = {"gem precision >= 0.95": AIMS["gem_precision"],
            "gem recall >= 0.85": AIMS["gem_recall"]}
    out: dict[str, Any] = {}
    print("\naims (met: the value reaches the aim; sure: even the CI's lower bound does)")
    for name, r in checks.items():
        aim = aims.get(name, AIMS["junk_recall"])
        met = r["n"] > 0 and r["value"] >= aim
        sure = r["n"] > 0 and r["ci95"][0] >= aim
        out[name] = {"value": r["value"], "ci95": r["ci95"], "met": met, "sure": sure}
        verdict = "met, sure" if sure else "met" if met else "NOT MET"
        print(f"  {name:26s} {r['value']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]  "
              f"{verdict}")
    every = bursts["one_pick"] == bursts["count"] and bursts["intended_best"] == bursts["count"]
    out["exactly one pick per burst (the intended one)"] = {"met": every}
    print(f"  {'exactly one pick per burst':26s} {bursts['intended_best']}/{bursts['count']}"
          f"  {'met' if every else 'NOT MET'}")
    out["all_met"] = all(v["met"] for v in out.values())
    print(f"  all aims met: {'yes' if out['all_met'] else 'NO'}")
    return out


def jsonable(value: Any) -> Any:
    """The summary with NaN (a rate of nothing) as null, so strict JSON readers take it."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _first_reason(r: MediaClassifiedData) -> str:
    for reason in r.reasons:
        if not reason.startswith(("photo:", "gem:", "duplicate:supersedes")):
            return ":".join(reason.split(":")[:2])
    return f"category:{r.category.value}"
