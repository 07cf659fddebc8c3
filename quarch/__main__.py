"""`python -m quarch` runs the CLI."""
from quarch.cli import main

main()
