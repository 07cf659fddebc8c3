"""quarch: cycle-approximate simulator and co-design explorer for low-bit NN accelerators.

The public Python API in one place:

    from quarch import load_hardware, load_workload, simulate
    result = simulate(load_workload("resnet18"), load_hardware("systolic-int8-32x32-os"))
    result.total.latency_s, result.to_dataframe()
"""
from hwmodels.costs import EnergyTable
from hwmodels.loader import load_hardware, preset_names
from hwmodels.pe import Infeasible
from hwmodels.spec import ArraySpec, Hardware, MacPE, MapperSpec, MemoryLevel
from sim.energy import reprice
from sim.result import OpResult, Result, Total
from sim.simulate import simulate
from workloads.errors import SpecError
from workloads.formats import list_formats, parse_format
from workloads.loader import load_workload
from workloads.ops import Conv2d, Gemm, OpFormats, Vector
from workloads.workload import Workload, WorkloadMetadata, load_trace, save_trace

__version__ = "0.1.0"

__all__ = [
    "ArraySpec", "Conv2d", "EnergyTable", "Gemm", "Hardware", "Infeasible", "MacPE", "MapperSpec", "MemoryLevel",
    "OpFormats", "OpResult", "Result", "SpecError", "Total", "Vector", "Workload", "WorkloadMetadata",
    "list_formats", "load_hardware", "load_trace", "load_workload", "parse_format", "preset_names", "reprice",
    "save_trace", "simulate",
]
