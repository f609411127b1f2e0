"""PowerShell import and export of the information-barrier cmdlets (design: Formats).

``parse_script`` reads a script into :class:`ScriptCommand` values, ``run_script`` /
``iter_script`` / ``apply_command`` run them against a ``BarrierConfig``, and
``render_script`` writes a config back as a script. Pure: no file I/O.
"""

from infobarrier.formats.powershell.errors import ScriptError
from infobarrier.formats.powershell.export import render_script
from infobarrier.formats.powershell.script import (
    START_APPLICATION,
    ParamValue,
    ScriptCommand,
    apply_command,
    iter_script,
    parse_script,
    run_script,
)

__all__ = [
    "START_APPLICATION",
    "ParamValue",
    "ScriptCommand",
    "ScriptError",
    "apply_command",
    "iter_script",
    "parse_script",
    "render_script",
    "run_script",
]
