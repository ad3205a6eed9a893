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


def usage_line(error: click.UsageError) -> str:
    """A usage mistake as one line, like every other bad input: the problem and where the fix is."""
    problem = " ".join(error.format_message().split()).rstrip(".")
    command = error.ctx.command_path if error.ctx is not None else "surfturf"
    return f"error: {problem}; fix: see `{command} --help`"


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except UserError as error:
        click.echo(error.line(), err=True)
        sys.exit(2)
    except UnicodeDecodeError as error:  # a reader without its own check met a binary file
        click.echo(f"error: an input file is not UTF-8 text ({error.reason} at byte {error.start}); "
                   "fix: pass text files (YAML, JSON, JSONL or plain text) in UTF-8", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help() if error.ctx is not None else error.format_message())
        sys.exit(0)
    except click.UsageError as error:
        click.echo(usage_line(error), err=True)
        sys.exit(2)
    except click.ClickException as error:
        click.echo(f"error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)


if __name__ == "__main__":
    main()
