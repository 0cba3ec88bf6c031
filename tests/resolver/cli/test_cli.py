"""Every command answers --help usefully."""

import click
import pytest

from resolver.cli.main import main


def walk(group: click.Group, path=()):
    for name, cmd in group.commands.items():
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from walk(cmd, (*path, name))


COMMANDS = [p for p, _ in walk(main)]


def test_the_documented_commands_exist():
    for path in [("run",), ("registry", "import"), ("registry", "export"), ("db", "upgrade"),
                 ("demo", "load")]:
        assert path in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help(runner, path):
    res = runner.invoke(*path, "--help")
    assert res.exit_code == 0
    assert "Usage: " in res.output
    cmd = dict(walk(main))[path]
    assert cmd.help or cmd.short_help or path[0] in ("routes", "shell", "run")


def test_db_upgrade_twice(runner):
    first = runner.invoke("db", "upgrade")
    assert first.exit_code == 0
    second = runner.invoke("db", "upgrade")
    assert "already at revision" in second.output
