"""What the tap's and the target's command lines share: how a bad setting ends a run."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

from singer_sdk.exceptions import ConfigValidationError

#: A setting to fix (runners and shells read 2 as a usage error).
EXIT_CONFIG_ERROR = 2


def exit_for_settings(
    logger: logging.Logger, error: ConfigValidationError, plugin: str
) -> NoReturn:
    """The SDK's check of the settings' JSON Schema exits 1 with no fix; name each problem,
    say where settings come from, and exit 2."""
    for problem in error.errors:
        logger.error("Setting problem: %s", problem)
    prefix = plugin.upper().replace("-", "_")
    logger.error(
        "Config validation failed. What to do: fix the setting(s) named above in meltano.yml, "
        "the config file or %s_* variables (`%s --about` lists every setting).",
        prefix,
        plugin,
    )
    sys.exit(EXIT_CONFIG_ERROR)
