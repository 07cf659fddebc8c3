"""Fold order choice: the closed form against the array implementation it replaces."""
from __future__ import annotations

from fractions import Fraction

from hypothesis import example, given, settings, strategies as st

from reference_plan import fetched_words  # tests/ is on sys.path under pytest
from sim.mapping import SLICE_AXES, _streamed_words, fewer_fetches_order, fold_schedule, operand_words, spatio_temporal
from workloads.ops import GemmView

ORDERS = ("cols_outer", "rows_outer")


def schedule_bytes(view, rows, cols, dataflow, room, word_bytes, order) -> Fraction:
    """Input and weight bytes brought into the level over the full schedule's folds, exactly: a resident
    operand's fetched words sum to its distinct words (`fetched_words` rescales them to that total),
    a streamed operand's are the integer per-fold words of every slice change."""
    schedule = fold_schedule(view, rows, cols, dataflow, 1, order)
    fetched = Fraction(0)
    for operand, total in operand_words(view).items():
        if operand == "output":
            continue
        words = total if total <= room[operand] else int(fetched_words(schedule, operand, total, room[operand]).sum())
        fetched += words * Fraction(word_bytes[operand])
    return fetched


def reference_order(view, rows, cols, dataflow, room, word_bytes) -> str:
    """The array implementation: build both schedules, keep rows_outer only if strictly fewer bytes."""
    co, ro = (schedule_bytes(view, rows, cols, dataflow, room, word_bytes, order) for order in ORDERS)
    return "rows_outer" if ro < co else "cols_outer"


@st.composite
def mappings(draw):
    m, n, k = (draw(st.integers(1, 300)) for _ in range(3))
    view = GemmView(m=m, n=n, k=k, distinct_input_words=draw(st.integers(1, m * k)))
    totals = operand_words(view)
    room = {}
    for operand in ("input", "weight"):
        fits = draw(st.sampled_from(["exactly", "resident", "streamed", "not held"]))
        margin = draw(st.integers(1, 10_000))
        room[operand] = {"exactly": float(totals[operand]), "resident": float(totals[operand] + margin),
                         "streamed": float(max(0, totals[operand] - margin)), "not held": 0.0}[fits]
    # element sizes of real formats (1..16 bits, block-scaled 4.25 bits, PE lanes) and a non-dyadic one
    sizes = st.sampled_from([0.125, 0.25, 0.375, 0.5, 0.53125, 1.0, 1.5, 2.0, 4.0, 0.3])
    return (view, draw(st.integers(1, 40)), draw(st.integers(1, 40)), draw(st.sampled_from(["os", "ws", "is"])),
            room, {"input": draw(sizes), "weight": draw(sizes)})


@settings(max_examples=1500, deadline=None)
@given(mappings())
# both operands resident: an exact tie, so cols_outer (floating-point sums once broke it either way)
@example((GemmView(m=262, n=108, k=222, distinct_input_words=26039), 2, 15, "os",
          {"input": 1e12, "weight": 1e12}, {"input": 1.0, "weight": 1.0}))
def test_closed_form_order_is_the_schedules_choice(case):
    assert fewer_fetches_order(*case) == reference_order(*case)


@settings(max_examples=300, deadline=None)
@given(mappings())
def test_streamed_words_are_the_schedules_sums(case):
    view, rows, cols, dataflow, _, _ = case
    sr, sc, t = spatio_temporal(view, dataflow)
    for order in ORDERS:
        schedule = fold_schedule(view, rows, cols, dataflow, 1, order)
        for operand in ("input", "weight"):
            streamed = fetched_words(schedule, operand, operand_words(view)[operand], 0.0).sum()
            assert _streamed_words(SLICE_AXES[dataflow][operand], order, rows, cols, sr, sc, t) == streamed


def test_an_exact_resident_tie_keeps_cols_outer():
    # both operands fit: either order fetches each once; the last bits of the schedules' rescaled float
    # sums must not decide the order
    case = (GemmView(m=262, n=108, k=222, distinct_input_words=26039), 2, 15, "os",
            {"input": 1e12, "weight": 1e12}, {"input": 1.0, "weight": 1.0})
    co, ro = (schedule_bytes(*case, order) for order in ORDERS)
    assert co == ro == sum(operand_words(case[0])[op] for op in ("input", "weight"))
    assert fewer_fetches_order(*case) == "cols_outer"


def test_exact_streamed_tie_keeps_cols_outer():
    # os, both streamed: cols_outer (C-1)*Sr*T more input, rows_outer (R-1)*Sc*T more weight words;
    # 8 x 8 array, M = 16 (R = 2), N = 16 (C = 2): equal, so cols_outer
    case = (GemmView(m=16, n=16, k=8, distinct_input_words=128), 8, 8, "os",
            {"input": 0.0, "weight": 0.0}, {"input": 1.0, "weight": 1.0})
    co, ro = (schedule_bytes(*case, order) for order in ORDERS)
    assert co == ro == 2 * 16 * 8 + 16 * 8
    assert fewer_fetches_order(*case) == "cols_outer"
