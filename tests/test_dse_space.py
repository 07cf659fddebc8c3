"""Space files: validation with one-line errors, grid enumeration with conditions, unit-cube mapping, ids."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dse.space import Parameter, load_space, parse_constraint
from workloads.errors import SpecError

BASE = """\
quarch_space: 1
name: t
hardware: systolic-int8-32x32-os
workloads: [resnet18]
"""


def space_file(tmp_path, body: str, head: str = BASE):
    path = tmp_path / "space.yaml"
    path.write_text(head + textwrap.dedent(body))
    return path


def test_grid_enumerates_conditional_parameters_in_order(tmp_path):
    space = load_space(space_file(tmp_path, """\
        parameters:
          array.rows: {values: [16, 32]}
          pe.weight_format: {values: [int8, int4]}
          pe.activation_format: {values: [int4, int2], when: {pe.weight_format: int4}}
        """))
    points = list(space.grid_points())
    # 2 rows x (int8 alone + int4 with 2 activation formats) = 6
    assert len(points) == space.grid_size() == 6
    assert points[0] == {"array.rows": 16, "pe.weight_format": "int8"}
    assert points[1] == {"array.rows": 16, "pe.weight_format": "int4", "pe.activation_format": "int4"}
    assert points[-1] == {"array.rows": 32, "pe.weight_format": "int4", "pe.activation_format": "int2"}


@pytest.mark.parametrize("spec, grid", [
    ({"range": [0, 1], "step": 0.25}, [0.0, 0.25, 0.5, 0.75, 1.0]),
    ({"range": [1, 16], "steps": 5, "log": True, "integer": True}, [1, 2, 4, 8, 16]),
    ({"range": [10, 20], "steps": 3}, [10.0, 15.0, 20.0]),
    ({"values": ["os", "ws"]}, ["os", "ws"]),
    ({"range": [0, 1]}, None),
])
def test_parameter_domains(spec, grid):
    parameter = Parameter.model_validate(spec)
    assert parameter.grid == grid
    if grid:  # u in [0, 1) picks the floor(u*n)-th value
        assert [parameter.from_unit(i / len(grid)) for i in range(len(grid))] == grid
        assert parameter.from_unit(0.999999) == grid[-1]
    else:
        assert parameter.from_unit(0.25) == 0.25


def test_point_from_unit_drops_inactive_parameters(tmp_path):
    space = load_space(space_file(tmp_path, """\
        parameters:
          pe.weight_format: {values: [int8, int4]}
          pe.activation_format: {values: [int4, int2], when: {pe.weight_format: int4}}
        """))
    assert space.point_from_unit([0.1, 0.9]) == {"pe.weight_format": "int8"}
    assert space.point_from_unit([0.6, 0.9]) == {"pe.weight_format": "int4", "pe.activation_format": "int2"}


def test_design_id_is_a_content_hash(tmp_path):
    space = load_space(space_file(tmp_path, "parameters:\n  array.rows: {values: [16, 32]}\n"))
    a, b = space.resolve({"array.rows": 16}), space.resolve({"array.rows": 32})
    assert a.design_id == space.resolve({"array.rows": 16}).design_id != b.design_id
    assert a.hardware(space.bases)["array"]["rows"] == 16
    # the same point on another base design is another design
    other = load_space(space_file(tmp_path, "parameters:\n  array.rows: {values: [16]}\n",
                                  head=BASE.replace("systolic-int8-32x32-os", "systolic-int8-64x64-ws")))
    assert other.resolve({"array.rows": 16}).design_id != a.design_id


def test_formats_and_workload_parameters(tmp_path):
    space = load_space(space_file(tmp_path, """\
        parameters:
          workload: {values: [resnet18, llama2-7b-layer]}
          formats.weight: {values: [int8, int4]}
        """, head=BASE.replace("workloads: [resnet18]\n", "")))
    design = space.resolve({"workload": "resnet18", "formats.weight": "int4"})
    assert design.workloads == ("resnet18",)
    workload_id, workload = space.workload("resnet18", design.formats)
    assert {op.formats.weight for op in workload.ops} == {"int4"}
    assert workload_id != space.workload("resnet18")[0]


@pytest.mark.parametrize("body, message", [
    ("parameters:\n  array.rows: {values: [16], range: [1, 2]}\n", "parameters.array.rows: give either"),
    ("parameters:\n  array.rows: {range: [4, 2]}\n", "must have lo < hi"),
    ("parameters:\n  arrray.rows: {values: [16]}\n", "parameters.arrray.rows: 'arrray.rows' is not a field"),
    ("parameters:\n  memory.l2.capacity_bytes: {values: [1]}\n", "is not a field of the base design"),
    ("parameters:\n  a.b: {values: [1], when: {c.d: 1}}\n", "which must be a parameter declared before it"),
    ("parameters:\n  array.rows: {values: [16]}\nobjectives: [{metric: speed}]\n",
     "objectives.0.metric: 'speed' is not a result metric"),
    ("parameters:\n  array.rows: {values: [16]}\nconstraints: ['area_mm2 ~ 5']\n", "constraints.0: 'area_mm2 ~ 5'"),
    ("parameters:\n  formats.weight: {values: [int99]}\n", "unknown number format"),
    ("parameters:\n  workload: {values: [resnet18]}\n", "not both"),
    ("parameters:\n  latency_s: {values: [1]}\n", "is a result column"),
    ("parameters:\n  memory.sram.name: {values: [x]}\n", "cannot be renamed"),
    ("parameters: {}\n", "parameters"),
])
def test_bad_space_files_give_one_line_errors_naming_file_and_field(tmp_path, body, message):
    path = space_file(tmp_path, body)
    with pytest.raises(SpecError) as err:
        load_space(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_not_a_space_file(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: x\n")
    with pytest.raises(SpecError, match="not a quarch space file"):
        load_space(path)


def test_continuous_range_has_no_grid(tmp_path):
    space = load_space(space_file(tmp_path, "parameters:\n  clock_hz: {range: [1.0e+8, 1.0e+9]}\n"))
    with pytest.raises(SpecError, match="parameters.clock_hz.*continuous range has no grid"):
        space.grid_size()


def test_constraints_parse_and_measure_violation():
    rule = parse_constraint("area_mm2<=5")
    assert (rule.metric, rule.op, rule.bound) == ("area_mm2", "<=", 5.0)
    assert list(rule.holds([4, 5, 6])) == [True, True, False]
    violation = rule.violation([4, 5, 7])
    assert violation[0] == violation[1] == 0 and violation[2] == pytest.approx(2, rel=1e-6)
    assert parse_constraint("tops >= 1").violation([0.5])[0] == pytest.approx(0.5, rel=1e-6)


@pytest.mark.parametrize("path", sorted((Path(__file__).parent.parent / "examples").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_example_space_files_load_and_their_first_point_evaluates(path):
    from dse.evaluate import evaluate_batch
    space = load_space(path)
    design = space.resolve(next(space.grid_points()))
    runs = [(name, space.workload(name, design.formats)[0]) for name in design.workloads]
    workloads = {wid: space.workload(name, design.formats)[1] for name, wid in runs}
    rows = evaluate_batch([(design, runs)], (space.bases, workloads))
    assert rows and all(row["status"] in ("ok", "infeasible") for row in rows)
