"""Search strategies in ask/tell form: grid, random, Latin hypercube, NSGA-II (pymoo), optuna.

`ask()` returns the next batch of points (dicts parameter -> value) or None when done;
`tell(points, F, G)` reports, per point of that batch, the objectives F (n x m, to be
minimized; +inf where the design failed) and constraint violations G (n x c, 0 when met,
+inf where it failed). Grid, random and LHS ignore what they are told. All are
deterministic for a seed: random and LHS draw unit-cube samples (numpy's PCG64,
scipy's `qmc.LatinHypercube`), NSGA-II is pymoo's (Deb et al. 2002) stepped one
generation per batch, and `optuna` is optuna's NSGAIISampler asked one population per
batch. Unit-cube coordinates become points through `Space.point_from_unit`.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from dse.space import Space
from workloads.errors import SpecError

STRATEGIES = ("grid", "random", "lhs", "nsga2", "optuna")
CHUNK = 4096  # points per ask for strategies that do not learn: bounds memory on huge spaces


class Strategy:
    """Base: `total` is how many points it will ask for (None if unknown)."""

    total: int | None = None

    def ask(self) -> list[dict] | None:
        raise NotImplementedError

    def tell(self, points: list[dict], objectives: np.ndarray, violations: np.ndarray) -> None:
        """Non-learning strategies ignore results."""


class GridSearch(Strategy):
    """Every grid point in order (the last parameter fastest), the first `budget` if given."""

    def __init__(self, space: Space, budget: int | None):
        size = space.grid_size()
        self.total = min(size, budget) if budget else size
        self._points = itertools.islice(space.grid_points(), self.total)

    def ask(self) -> list[dict] | None:
        return list(itertools.islice(self._points, CHUNK)) or None


class UnitCubeSampler(Strategy):
    """`budget` points from unit-cube samples, handed out CHUNK at a time."""

    def __init__(self, space: Space, budget: int, samples):
        self.space, self.total, self._samples, self._given = space, budget, samples, 0

    def ask(self) -> list[dict] | None:
        count = min(CHUNK, self.total - self._given)
        if count <= 0:
            return None
        self._given += count
        return [self.space.point_from_unit(u) for u in self._samples(count)]


def random_search(space: Space, budget: int, seed: int) -> UnitCubeSampler:
    rng = np.random.default_rng(seed)
    return UnitCubeSampler(space, budget, lambda n: rng.random((n, len(space.names))))


def latin_hypercube(space: Space, budget: int, seed: int) -> UnitCubeSampler:
    from scipy.stats import qmc
    samples = qmc.LatinHypercube(d=len(space.names), rng=np.random.default_rng(seed)).random(budget)
    taken = iter(np.array_split(samples, range(CHUNK, budget, CHUNK)))
    return UnitCubeSampler(space, budget, lambda n: next(taken))


class Nsga2(Strategy):
    """pymoo's NSGA-II on the unit cube, one generation per ask, ceil(budget / population) generations.

    A failed design is infeasible (an extra constraint column) so selection drops it first.
    The last generation is whole, so up to population - 1 points more than `budget` are asked.
    """

    def __init__(self, space: Space, budget: int, seed: int):
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.problem import Problem

        self.space = space
        population = min(space.nsga2.population, budget)
        self.total = math.ceil(budget / population) * population
        dims = len(space.names)
        self._problem = Problem(n_var=dims, n_obj=len(space.objectives), n_ieq_constr=len(space.constraints) + 1,
                                xl=np.zeros(dims), xu=np.ones(dims))
        self._algorithm = NSGA2(pop_size=population)
        self._algorithm.setup(self._problem, termination=("n_gen", self.total // population), seed=seed,
                              verbose=False)
        self._population = None

    def ask(self) -> list[dict] | None:
        if not self._algorithm.has_next():
            return None
        self._population = self._algorithm.ask()
        return [self.space.point_from_unit(x) for x in self._population.get("X")]

    def tell(self, points, objectives, violations) -> None:
        from pymoo.problems.static import StaticProblem

        F, G = _finite(objectives), _finite(violations)
        failed = ~np.isfinite(objectives).all(axis=1)
        G = np.column_stack([G, failed.astype(float)])
        self._algorithm.evaluator.eval(StaticProblem(self._problem, F=F, G=G), self._population)
        self._algorithm.tell(infills=self._population)


class OptunaNsga2(Strategy):
    """optuna's NSGAIISampler (optional dependency), one population of trials per ask."""

    def __init__(self, space: Space, budget: int, seed: int):
        try:
            import optuna
        except ImportError:
            raise SpecError("the optuna strategy needs optuna: pip install 'quarch[optuna]'",
                            field="--strategy") from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space, self.total, self._optuna = space, budget, optuna
        self._population = min(space.nsga2.population, budget)
        sampler = optuna.samplers.NSGAIISampler(population_size=self._population, seed=seed)
        self._study = optuna.create_study(directions=["minimize"] * len(space.objectives), sampler=sampler)
        self._trials, self._asked = [], 0

    def ask(self) -> list[dict] | None:
        count = min(self._population, self.total - self._asked)
        if count <= 0:
            return None
        self._asked += count
        self._trials = [self._study.ask() for _ in range(count)]
        return [self.space.point_from_unit([trial.suggest_float(f"u{i}", 0.0, 1.0)
                                            for i in range(len(self.space.names))]) for trial in self._trials]

    def tell(self, points, objectives, violations) -> None:
        for trial, f, g in zip(self._trials, objectives, violations):
            if np.isfinite(f).all():
                for name, violation in zip(self.space.constraints, g):
                    trial.set_constraint(name, float(violation))
                self._study.tell(trial, [float(v) for v in f])
            else:
                self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)


def make_strategy(name: str, space: Space, budget: int | None, seed: int) -> Strategy:
    """The named strategy; budget: points to evaluate (grid: all if None; others need it or use 100)."""
    if name not in STRATEGIES:
        raise SpecError(f"{name!r} is not a strategy: allowed are {', '.join(STRATEGIES)}", field="--strategy")
    if budget is not None and budget < 1:
        raise SpecError(f"{budget}: the budget must be at least 1", field="--budget")
    if name == "grid":
        return GridSearch(space, budget)
    budget = budget or 100
    return {"random": random_search, "lhs": latin_hypercube, "nsga2": Nsga2,
            "optuna": OptunaNsga2}[name](space, budget, seed)


def _finite(values: np.ndarray) -> np.ndarray:
    """pymoo needs finite numbers: failures are pushed beyond every real value."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, 1e300)
