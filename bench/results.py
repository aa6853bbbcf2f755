"""What is measured (the metric table), the samples collected, and the printed comparison."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field


class NotApplicable(Exception):
    """A scenario that cannot be measured for one program; the message is the table cell."""


@dataclass(frozen=True)
class Target:
    """A SPEC §8 target. `ratio_max`/`ratio_min` bound ours ÷ original; `max`/`min` bound ours;
    `floor_max` bounds ours ÷ the measured floor metric `floor`."""

    text: str
    ratio_max: float | None = None
    ratio_min: float | None = None
    max: float | None = None
    min: float | None = None
    floor: str | None = None
    floor_max: float | None = None


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    higher_is_better: bool = False
    target: Target | None = None
    ours_only: bool = False


SLOWER_15 = Target("≤ 1.5× original", ratio_max=1.5)
AT_LEAST = Target("≥ original", ratio_min=1.0)

METRICS: list[Metric] = [
    Metric("start_floor", "floor: python -c 'import numpy, tornado.web'", "ms", ours_only=True),
    Metric(
        "start",
        "start → /api/health 200",
        "ms",
        target=Target("≤ 1.5× floor", floor="start_floor", floor_max=1.5),
    ),
    Metric("scan", "start → 500-file scan complete", "ms", target=Target("≤ 2× original", 2.0)),
    Metric(
        "scan_after_up",
        "  of which after the first health answer",
        "ms",
        target=Target("≤ 2× original (issue 14)", 2.0),
    ),
    Metric(
        "idle_rss", "idle RSS after the 500-file scan", "MB", target=Target("≤ 150 MB", max=150)
    ),
    Metric("first_png_512", "first PNG, 512² (native)", "ms", target=SLOWER_15),
    Metric("first_raw_512", "first raw frame, 512² (native)", "ms", target=SLOWER_15),
    Metric("first_png_big", "first PNG, 3000×2500 (native)", "ms", target=SLOWER_15),
    Metric("first_raw_big", "first raw frame, 3000×2500 (native)", "ms", target=SLOWER_15),
    Metric("first_png_tomo_j2k", "first PNG, 3328×2560 JPEG 2000", "ms"),
    Metric("first_raw_tomo_j2k", "first raw frame, 3328×2560 JPEG 2000", "ms"),
    Metric("first_raw_tomo_htj2k", "first raw frame, 3328×2560 HTJ2K", "ms"),
    Metric("busy_health", "/api/health while a 3328×2560 J2K frame decodes (slowest)", "ms"),
    Metric("cached_raw_512", "cached raw 512², same request", "req/s", True, AT_LEAST),
    Metric("cached_png_512", "cached PNG 512², same request", "req/s", True, AT_LEAST),
    Metric("cached_raw_big", "cached raw 3000×2500, same request", "req/s", True, AT_LEAST),
    Metric("cached_png_big", "cached PNG 3000×2500, same request", "req/s", True, AT_LEAST),
    *(
        Metric(f"seq_raw_{syntax}", f"sequential raw 100×512², {label}", "frames/s", True, AT_LEAST)
        for syntax, label in (
            ("native", "uncompressed"),
            ("j2k", "JPEG 2000"),
            ("jpegls", "JPEG-LS"),
            ("rle", "RLE"),
        )
    ),
    Metric("seq_png_native", "sequential PNG 100×512², uncompressed", "frames/s", True),
    Metric("peak_rss", "peak RSS (max VmHWM over frame scenarios)", "MB"),
    Metric(
        "browser_first_big",
        "browser: first frame on screen, 3000×2500",
        "ms",
        target=Target("≤ 1500 ms", max=1500),
    ),
    Metric(
        "browser_cine",
        "browser: cine at 24 fps, 100×512²",
        "fps",
        True,
        Target("≥ 23 fps", min=23),
    ),
    Metric("browser_cine_j2k", "browser: cine at 24 fps, 100×512² JPEG 2000", "fps", True),
    Metric(
        "browser_wl",
        "browser: W/L drag redraws, 3000×2500",
        "/s",
        True,
        Target("≥ 30/s", min=30),
    ),
]
METRIC_BY_KEY = {m.key: m for m in METRICS}


@dataclass
class Samples:
    """Every value measured: ``values[key][program]`` and, for a cell that could not be measured,
    ``notes[key][program]`` (the last reason given)."""

    values: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    notes: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, program: str, measured: dict[str, float]) -> None:
        for key, value in measured.items():
            self.values[key][program].append(float(value))

    def note(self, program: str, keys: list[str], text: str) -> None:
        for key in keys:
            self.notes[key][program] = text

    def median(self, key: str, program: str) -> float | None:
        values = self.values.get(key, {}).get(program)
        return statistics.median(values) if values else None

    def as_json(self) -> dict:
        return {
            "values": {k: dict(v) for k, v in self.values.items()},
            "notes": {k: dict(v) for k, v in self.notes.items()},
        }


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms" and value >= 1000:
        return f"{value / 1000:.2f} s"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:.{digits}f} {unit}"


def rows(samples: Samples) -> list[list[str]]:
    """The table: scenario, ours, original, ours ÷ original, target, met."""
    out = []
    for m in METRICS:
        if m.key not in samples.values and m.key not in samples.notes:
            continue
        ours = samples.median(m.key, "ours")
        orig = samples.median(m.key, "original")
        cell_ours = fmt(ours, m.unit) if ours is not None else samples.notes[m.key].get("ours", "—")
        if m.ours_only:
            cell_orig = ""
        elif orig is not None:
            cell_orig = fmt(orig, m.unit)
        else:
            cell_orig = samples.notes[m.key].get("original", "—")
        ratio = f"{ours / orig:.2f}×" if ours is not None and orig else ""
        target, met = _judge(m, ours, orig, samples)
        out.append([m.label, cell_ours, cell_orig, ratio, target, met])
    return out


def _judge(m: Metric, ours: float | None, orig: float | None, samples: Samples) -> tuple[str, str]:
    t = m.target
    if t is None:
        return "", ""
    text = t.text
    if t.floor is not None:
        floor = samples.median(t.floor, "ours")
        if floor is not None:
            text = f"{text} ({fmt(floor * t.floor_max, m.unit)})"
    if ours is None:
        return text, "n/a"
    ok: bool | None = None
    if t.ratio_max is not None or t.ratio_min is not None:
        if orig:
            r = ours / orig
            ok = (t.ratio_max is None or r <= t.ratio_max) and (
                t.ratio_min is None or r >= t.ratio_min
            )
        elif orig is None and not samples.values.get(m.key, {}).get("original"):
            ok = True  # the original cannot do it at all
    if t.max is not None or t.min is not None:
        ok = (t.max is None or ours <= t.max) and (t.min is None or ours >= t.min)
    if t.floor is not None:
        floor = samples.median(t.floor, "ours")
        ok = None if floor is None else ours <= floor * t.floor_max
    return text, {True: "met", False: "NOT MET", None: "?"}[ok]


def render(table: list[list[str]], head: list[str] | None = None) -> str:
    """A Markdown table (readable in a terminal and pasteable into the README)."""
    head = head or ["Scenario", "Ours", "Original", "Ours/Orig", "SPEC §8 target", "Met"]
    widths = [max(len(r[i]) for r in [head, *table]) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for r in table:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(lines)
