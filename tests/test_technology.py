"""Tests for hwmodels.technology (Stillmaker & Baas 2017 node scaling)."""

import math

import pytest

from hwmodels import technology as tech
from hwmodels.technology import (
    SUPPORTED_NODES_NM,
    area_scale,
    delay_factor,
    delay_scale,
    energy_factor,
    energy_scale,
    nominal_vdd,
)


def _sig4(x: float) -> float:
    return float(f"{x:.4g}")


def test_corrigendum_example():
    # Authors' corrigendum (vcl.ece.ucdavis.edu/pubs/2017.02.VLSIintegration.TechScale/):
    # x = 32 nm HP at 0.9 V, y = 65 nm at 1.3 V, 1 pJ/op at y -> 0.1755 pJ/op at x.
    fx = energy_factor(32, 0.9)
    fy = energy_factor(65, 1.3)
    assert _sig4(fx) == 0.4571
    assert _sig4(fy) == 2.604
    e_x_pj = energy_scale(65, 32, vdd_from=1.3, vdd_to=0.9) * 1.0
    # The paper divides the factors rounded to 4 digits: 0.4571 / 2.604 = 0.1755.
    assert _sig4(_sig4(fx) / _sig4(fy)) == 0.1755
    # Unrounded, the same computation gives 0.17558 pJ/op.
    assert e_x_pj == pytest.approx(0.1755, rel=5e-4)
    assert e_x_pj == pytest.approx(fx / fy, rel=1e-12)


def test_default_vdd_is_nominal():
    assert energy_factor(32) == energy_factor(32, nominal_vdd(32))
    assert nominal_vdd(32) == 0.9
    assert nominal_vdd(45) == 1.0 and nominal_vdd(45, "LP") == 1.1
    assert nominal_vdd(65, "HP") == nominal_vdd(65, "LP") == 1.1
    # PTM model-card values (see the module's provenance note).
    assert [nominal_vdd(n) for n in SUPPORTED_NODES_NM] == [1.8, 1.3, 1.2, 1.1, 1.0, 0.9, 0.9, 0.85, 0.8, 0.75, 0.7]
    assert [nominal_vdd(n, "LP") for n in (45, 32, 20, 16, 14, 10, 7)] == [1.1, 1.0, 0.9, 0.85, 0.8, 0.75, 0.7]
    assert energy_scale(45, 7) == energy_scale(45, 7, nominal_vdd(45), nominal_vdd(7))


@pytest.mark.parametrize("node", SUPPORTED_NODES_NM)
@pytest.mark.parametrize("flavor", tech.FLAVORS)
def test_identity_for_same_node(node, flavor):
    assert energy_scale(node, node, flavor=flavor) == 1.0
    assert delay_scale(node, node, flavor=flavor) == 1.0
    assert area_scale(node, node) == 1.0


@pytest.mark.parametrize("flavor", tech.FLAVORS)
def test_energy_decreases_with_smaller_nodes_at_nominal_vdd(flavor):
    factors = [energy_factor(n, flavor=flavor) for n in SUPPORTED_NODES_NM]  # 180 nm ... 7 nm
    assert all(a > b for a, b in zip(factors, factors[1:])), factors


def test_area_decreases_with_smaller_nodes():
    areas = [area_scale(180, n) for n in SUPPORTED_NODES_NM]
    assert all(a > b for a, b in zip(areas, areas[1:])), areas


@pytest.mark.parametrize("a", SUPPORTED_NODES_NM)
@pytest.mark.parametrize("b", SUPPORTED_NODES_NM)
def test_round_trip(a, b):
    assert energy_scale(a, b) * energy_scale(b, a) == pytest.approx(1.0, rel=1e-12)
    assert delay_scale(a, b) * delay_scale(b, a) == pytest.approx(1.0, rel=1e-12)
    assert energy_scale(a, b, 1.0, 0.8) * energy_scale(b, a, 0.8, 1.0) == pytest.approx(1.0, rel=1e-12)
    # The area table is published with two significant digits, so it is reciprocal only to ~4.4 %.
    assert area_scale(a, b) * area_scale(b, a) == pytest.approx(1.0, abs=0.045)


def test_known_table_entries():
    assert area_scale(45, 7) == 0.059
    assert area_scale(7, 180) == 320.0
    assert delay_factor(45) == pytest.approx(-501.6 + 1567 - 1619 + 566.1)
    assert energy_factor(7, flavor="LP") < energy_factor(7, flavor="HP")


@pytest.mark.parametrize("bad", [40, 28, 22, 5, 0, -7, 45.5, "45nm", None])
def test_unsupported_node_message(bad):
    with pytest.raises(ValueError) as info:
        energy_factor(bad)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"technology node {bad} nm is not supported: allowed are ")
    assert msg.endswith("180, 130, 90, 65, 45, 32, 20, 16, 14, 10, 7")


def test_error_message_exact_and_everywhere():
    expected = "technology node 40 nm is not supported: allowed are 180, 130, 90, 65, 45, 32, 20, 16, 14, 10, 7"
    for call in (
        lambda: nominal_vdd(40),
        lambda: energy_scale(45, 40),
        lambda: delay_scale(40, 45),
        lambda: area_scale(40, 7),
        lambda: area_scale(7, 40),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value) == expected


def test_integral_float_node_accepted():
    assert energy_factor(45.0) == energy_factor(45)


def test_bad_flavor_and_voltage():
    with pytest.raises(ValueError, match="flavor 'ULP' is not supported: allowed are HP, LP"):
        energy_factor(7, flavor="ULP")
    for v in (0.0, -0.9, math.nan, math.inf):
        with pytest.raises(ValueError, match="supply voltage"):
            energy_factor(32, v)
    # 180 nm energy fit is linear (24.64 V - 17.98): non-positive below ~0.73 V.
    with pytest.raises(ValueError, match="outside the fitted range"):
        energy_factor(180, 0.5)
