"""What the tap's and the target's command lines share: how a bad setting ends a run."""

from __future__ import annotations

import copy
import logging
import sys
from typing import Any, NoReturn

import click
from singer_sdk.exceptions import ConfigValidationError

from bill_core.inputs import InputError, environment_problems, read_config_file, setting_problem

#: A setting to fix (runners and shells read 2 as a usage error).
EXIT_CONFIG_ERROR = 2


def exit_for_settings(
    logger: logging.Logger, error: ConfigValidationError, plugin: str
) -> NoReturn:
    """The SDK's check of the settings' JSON Schema exits 1 with no fix, and shows the
    values (a password given as a number included); name each setting, never its value,
    say where settings come from, and exit 2."""
    for problem in error.errors:
        logger.error("Setting problem: %s", setting_problem(problem))
    prefix = plugin.upper().replace("-", "_")
    logger.error(
        "Config validation failed. What to do: fix the setting(s) named above in meltano.yml, "
        "the config file or %s_* variables (`%s --about` lists every setting).",
        prefix,
        plugin,
    )
    sys.exit(EXIT_CONFIG_ERROR)


def check_config_files(logger: logging.Logger, ctx: click.Context, values: Any) -> None:
    """`--config` files that are missing, not JSON or not an object end the run with exit 2
    and their name (singer-sdk raises a traceback while it parses the command line)."""
    for path in values or ():
        if path == "ENV":
            continue
        try:
            read_config_file(path)
        except InputError as error:
            logger.error("%s", error)
            ctx.exit(EXIT_CONFIG_ERROR)


def check_environment(plugin: Any, config: Any) -> None:
    """With `--config ENV`: settings given as environment variables that singer-sdk could
    not convert (`invalid literal for int()`) end the run with exit 2, named. `plugin` is
    the tap or target class (its settings, with the SDK's built-in ones such as
    stream_maps)."""
    if not getattr(config, "parse_env", False):
        return
    schema = copy.deepcopy(plugin.config_jsonschema)
    plugin.append_builtin_config(schema)
    logger = plugin.logger
    problems = environment_problems(plugin.name, schema)
    for problem in problems:
        logger.error("Setting problem: %s", problem)
    if problems:
        logger.error("Config validation failed. What to do: fix the variable(s) named above.")
        sys.exit(EXIT_CONFIG_ERROR)
