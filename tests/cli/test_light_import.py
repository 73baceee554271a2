"""`valuechain --help` stays fast: importing the CLI loads no heavy library (issue 8)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("fpdf", "PIL", "llama_cpp", "torch", "transformers", "numpy", "huggingface_hub", "openai")


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = (
        "import json, sys; import valuechain.cli.main; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(loaded.stdout) == []


def test_help_of_every_group_runs_without_heavy_libraries() -> None:
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from valuechain.cli.main import app\n"
        "runner = CliRunner()\n"
        "for group in ([], ['key'], ['model'], ['offer'], ['system'], ['audit'], ['hub'], ['usage'],"
        " ['access'], ['chain'], ['obligations'], ['docs'], ['demo'], ['login']):\n"
        "    assert runner.invoke(app, [*group, '--help']).exit_code == 0, group\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(loaded.stdout) == []


def test_root_help_imports_no_command_module() -> None:
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from valuechain.cli.main import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('valuechain.cli.') or m == 'sqlalchemy')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(loaded.stdout) == ["valuechain.cli.main"]


def test_the_listed_help_is_each_command_s_own() -> None:
    from valuechain.cli.main import COMMANDS, load_command

    for name, (_, _, listed) in COMMANDS.items():
        command = load_command(name)
        assert (command.help or "").strip().splitlines()[0] == listed, name
