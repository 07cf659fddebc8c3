"""Reproductions of published results (setup, expected figure, tolerance, source), run by `quarch validate`."""
