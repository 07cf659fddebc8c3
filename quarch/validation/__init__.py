"""Reproductions of published results, each a setup + expected figure + tolerance + source (to come)."""
