"""The `surfturf` command group; subcommands load lazily so `--help` never imports faiss or torch."""

from __future__ import annotations

import importlib
import sys

import click

from surfturf import __version__
from surfturf.errors import UserError

COMMANDS: dict[str, str] = {
    "surf": "surfturf.cli.surf:surf",
    "rubrics": "surfturf.cli.rubrics:rubrics",
    "index": "surfturf.cli.index:index",
    "turf": "surfturf.cli.turf:turf",
    "robust": "surfturf.cli.robust:robust",
    "steer": "surfturf.cli.steer:steer",
    "ablate": "surfturf.cli.ablate:ablate",
    "report": "surfturf.cli.report:report",
    "export": "surfturf.cli.export:export",
    "world": "surfturf.cli.world:world",
    "demo": "surfturf.cli.demo:demo",
    "models": "surfturf.cli.models:models",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when named."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="surfturf")
def cli() -> None:
    """Find (SURF) and explain (TURF) chunky post-training failures in language models."""


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except UserError as error:
        click.echo(error.line(), err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)


if __name__ == "__main__":
    main()
