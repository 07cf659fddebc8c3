"""Published GPU/FPGA results (quarch/validation/gpu_fpga.py): each reproduction within its tolerance."""
from __future__ import annotations

import pytest

from quarch.validation.gpu_fpga import REPRODUCTIONS

# Reproductions quarch does not meet yet, with why; strict, so a fix shows up as a failure to update.
KNOWN_GAPS = {
    "hawq-v3-t4-resnet50": "quarch gives ~1.70x: memory-bound layers halve their bytes at INT4, while the "
                           "measured TVM kernels (HWNC layout, casting loops) fall further from peak at INT4",
}


@pytest.mark.parametrize("repro", REPRODUCTIONS, ids=lambda r: r.name)
def test_reproduction(repro):
    assert repro.claim and repro.source and repro.low < repro.high
    value, ok = repro.check()
    if repro.name in KNOWN_GAPS:
        pytest.xfail(KNOWN_GAPS[repro.name]) if not ok else pytest.fail(f"{repro.name} now passes ({value:.3g})")
    assert ok, f"{repro.name}: quarch {value:.4g}, allowed {repro.low:.4g}..{repro.high:.4g}"
