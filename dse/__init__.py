"""Design-space exploration: space files, search strategies, executors, result store, Pareto fronts (to come)."""
