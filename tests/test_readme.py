"""README.md shows exactly two commands, and CI runs the test one verbatim."""
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [block.split("```", 1)[0].strip() for block in section.split("```bash\n")[1:]]


def test_readme_has_a_main_and_a_test_command():
    main, test = _commands()
    assert main.endswith("quarch run") and "pip install" in main
    assert "pytest" in test and "pip install" in test


def test_ci_runs_the_readme_test_command():
    assert _commands()[1] in (ROOT / ".ci" / "run").read_text().splitlines()
