"""PowerShell import and export (design: "PowerShell import", "powershell export").

Scripts are the ones Microsoft documents (the Contoso and North School District examples
of learn.microsoft.com/purview/information-barriers-policies and
.../information-barriers-multi-segment) and the forms admins write by hand.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infobarrier.core.barriers import BarrierConfig, ListKind, Mode, PolicyState
from infobarrier.core.errors import InvalidInput, RuleViolation
from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Op, Or, render
from infobarrier.core.limits import invisible_character
from infobarrier.formats.powershell import (
    START_APPLICATION,
    ScriptCommand,
    ScriptError,
    apply_command,
    iter_script,
    parse_script,
    render_script,
    run_script,
)

# -- helpers -----------------------------------------------------------------------------


def run(text: str, config: BarrierConfig | None = None) -> BarrierConfig:
    return run_script(config or BarrierConfig(), parse_script(text))[0]


def snapshot(config: BarrierConfig) -> tuple[object, ...]:
    """Everything an admin defines, without ids."""
    return (
        config.mode,
        config.people_search_restriction,
        tuple((s.name, s.filter) for s in config.segments),
        tuple(
            (p.name, p.segment, p.kind, p.segments, p.state, p.moderation_allowed, p.comment)
            for p in config.policies
        ),
    )


def error_of(text: str, config: BarrierConfig | None = None) -> ScriptError:
    with pytest.raises(ScriptError) as info:
        run_script(config or BarrierConfig(), parse_script(text))
    return info.value


def where(text: str, config: BarrierConfig | None = None) -> tuple[int, int]:
    err = error_of(text, config)
    assert str(err).startswith(f"line {err.line}, column {err.column}: ")
    return err.line, err.column


def one(text: str) -> ScriptCommand:
    commands = parse_script(text)
    assert len(commands) == 1
    return commands[0]


def segments(*names: str, mode: Mode = Mode.SINGLE_SEGMENT) -> BarrierConfig:
    config = BarrierConfig().set_mode(mode)
    for name in names:
        config = config.new_segment(name, f"Department -eq '{name}'")
    return config


# -- Microsoft's documented examples ----------------------------------------------------------

CONTOSO = """\
# Contoso's departments, segments and policies (Microsoft Purview documentation)
Connect-IPPSSession -UserPrincipalName admin@contoso.onmicrosoft.com

New-OrganizationSegment -Name "HR" -UserGroupFilter "Department -eq 'HR'"
New-OrganizationSegment -Name "Sales" -UserGroupFilter "Department -eq 'Sales'"
New-OrganizationSegment -Name "Marketing" -UserGroupFilter "Department -eq 'Marketing'"
New-OrganizationSegment -Name "Research" -UserGroupFilter "Department -eq 'Research'"
New-OrganizationSegment -Name "Manufacturing" -UserGroupFilter "Department -eq 'Manufacturing'"

New-InformationBarrierPolicy -Name "Sales-Research" -AssignedSegment "Sales" -SegmentsBlocked "Research" -State Inactive
New-InformationBarrierPolicy -Name "Research-Sales" -AssignedSegment "Research" -SegmentsBlocked "Sales" -State Inactive
New-InformationBarrierPolicy -Name "Manufacturing-HRMarketing" -AssignedSegment "Manufacturing" -SegmentsAllowed "HR","Marketing","Manufacturing" -State Inactive

Get-InformationBarrierPolicy
Set-InformationBarrierPolicy -Identity "Sales-Research" -State Active
Set-InformationBarrierPolicy -Identity "Research-Sales" -State Active
Set-InformationBarrierPolicy -Identity "Manufacturing-HRMarketing" -State Active
Start-InformationBarrierPoliciesApplication
"""  # noqa: E501 - Microsoft's commands, one per line as documented

NORTH_SCHOOL_DISTRICT = """\
Set-PolicyConfig -InformationBarrierMode MultiSegment
New-OrganizationSegment -Name "School1" -UserGroupFilter "Department -eq 'School1'"
New-OrganizationSegment -Name "School2" -UserGroupFilter "Department -eq 'School2'"
New-OrganizationSegment -Name "AllTeachers" -UserGroupFilter "MemberOfGroup -eq 'AllTeachersgroup@northschoolsdistrict.com'"
New-InformationBarrierPolicy -Name School1Policy -SegmentsAllowed 'School1' -AssignedSegment 'School1' -State Active
New-InformationBarrierPolicy -Name School2Policy -SegmentsAllowed 'School2' -AssignedSegment 'School2' -State Active
New-InformationBarrierPolicy -Name AllTeachersPolicy -SegmentsAllowed 'AllTeachers' -AssignedSegment 'AllTeachers' -State Active
Start-InformationBarrierPoliciesApplication
"""  # noqa: E501


def test_contoso_example() -> None:
    commands = parse_script(CONTOSO)
    assert [c.cmdlet for c in commands] == [
        *["New-OrganizationSegment"] * 5,
        *["New-InformationBarrierPolicy"] * 3,
        *["Set-InformationBarrierPolicy"] * 3,
        START_APPLICATION,
    ]
    assert commands[5].params == {
        "Name": "Sales-Research",
        "AssignedSegment": "Sales",
        "SegmentsBlocked": ("Research",),
        "State": "Inactive",
    }
    assert (commands[0].line, commands[0].column) == (4, 1)
    config, starts = run_script(BarrierConfig(), commands)
    assert starts == [11]
    assert [(s.name, s.filter) for s in config.segments] == [
        ("HR", "Department -eq 'HR'"),
        ("Sales", "Department -eq 'Sales'"),
        ("Marketing", "Department -eq 'Marketing'"),
        ("Research", "Department -eq 'Research'"),
        ("Manufacturing", "Department -eq 'Manufacturing'"),
    ]
    policies = {p.name: p for p in config.policies}
    assert policies["Sales-Research"].kind is ListKind.BLOCK
    assert policies["Sales-Research"].segments == ("Research",)
    assert policies["Research-Sales"].segment == "Research"
    assert policies["Research-Sales"].segments == ("Sales",)
    manufacturing = policies["Manufacturing-HRMarketing"]
    assert manufacturing.kind is ListKind.ALLOW
    assert manufacturing.segments == ("HR", "Marketing", "Manufacturing")
    assert all(p.state is PolicyState.ACTIVE for p in config.policies)
    assert config.mode is Mode.SINGLE_SEGMENT


def test_north_school_district_example() -> None:
    config, starts = run_script(BarrierConfig(), parse_script(NORTH_SCHOOL_DISTRICT))
    assert config.mode is Mode.MULTI_SEGMENT
    assert starts == [7]
    assert config.segment("AllTeachers").filter == (
        "MemberOfGroup -eq 'AllTeachersgroup@northschoolsdistrict.com'"
    )
    assert [(p.name, p.segment, p.kind, p.segments, p.state) for p in config.policies] == [
        ("School1Policy", "School1", ListKind.ALLOW, ("School1",), PolicyState.ACTIVE),
        ("School2Policy", "School2", ListKind.ALLOW, ("School2",), PolicyState.ACTIVE),
        ("AllTeachersPolicy", "AllTeachers", ListKind.ALLOW, ("AllTeachers",), PolicyState.ACTIVE),
    ]


def test_a_block_list_in_multisegment_mode_names_its_command() -> None:
    text = NORTH_SCHOOL_DISTRICT + (
        "New-OrganizationSegment -Name Staff -UserGroupFilter \"Department -eq 'Staff'\"\n"
        "New-InformationBarrierPolicy -Name StaffPolicy -AssignedSegment Staff "
        "-SegmentsBlocked School1\n"
    )
    err = error_of(text)
    assert (err.line, err.column) == (10, 1)
    assert err.rule == "policy.multisegment_allow_only"
    assert err.cause_code == "rule_violation"
    assert "MultiSegment mode allows only SegmentsAllowed lists" in err.detail


def test_round_trip_of_the_examples() -> None:
    for text in (CONTOSO, NORTH_SCHOOL_DISTRICT):
        config = run(text)
        assert snapshot(run(render_script(config))) == snapshot(config)


# -- quoting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("'it''s'", "it's"),
        ("''", ""),
        ("'a \"b\" $c `d #e ;f'", 'a "b" $c `d #e ;f'),
        ('"say ""hi"""', 'say "hi"'),
        ('"say `"hi`""', 'say "hi"'),
        ('"tab`there"', "tab\there"),
        ('"new`nline `$5 ``x"', "new\nline $5 `x"),
        ('"`u{263A} `0"', "\u263a \0"),
        ('"it\'s #1; ok"', "it's #1; ok"),
        ('"$true and $False"', "True and False"),
        ('"costs $ 5, or $"', "costs $ 5, or $"),
        ("bare-word_1.x", "bare-word_1.x"),
        ("a#b", "a#b"),
        ("`$x", "$x"),
        ("\u2018typographic\u2019\u2019s\u2019", "typographic\u2019s"),
        ("\u201cdouble \u201d\u201d quotes\u201d", "double \u201d quotes"),
        ("@'\nhere 'n' $there\n'@", "here 'n' $there"),
        ('@"\nline 1\nline `"2`" $true\n"@', 'line 1\nline "2" True'),
        ("@'\n'@", ""),
        ("'multi\nline'", "multi\nline"),
    ],
)
def test_quoting(written: str, value: str) -> None:
    command = one(f"Set-InformationBarrierPolicy -Identity P -Comment {written}")
    assert command.params["Comment"] == value


def test_typographic_dashes_and_case_insensitive_names() -> None:
    command = one("new-organizationSEGMENT \u2013name HR -usergroupfilter \"Department -eq 'HR'\"")
    assert command.cmdlet == "New-OrganizationSegment"
    assert command.params == {"Name": "HR", "UserGroupFilter": "Department -eq 'HR'"}


def test_parameters_by_prefix_alias_and_colon() -> None:
    command = one(
        "New-InformationBarrierPolicy -N:P -Assigned:'S' -SegmentsA S -Sta:active "
        "-Mod:$true -Comm 'c' -cf:$false -wi:$false"
    )
    assert command.params == {
        "Name": "P",
        "AssignedSegment": "S",
        "SegmentsAllowed": ("S",),
        "State": "Active",
        "ModerationAllowed": True,
        "Comment": "c",
        "Confirm": False,
    }
    assert command.what_if is False


# -- lists, positional parameters, switches --------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        '"A","B","C"',
        "'A', 'B' ,'C'",
        "A,B,C",
        "@('A','B','C')",
        '@("A", "B", "C")',
        "@( 'A'\n   'B'\n   'C' )",
        "@(\n  'A',\n  'B'\n  'C'\n)",
        "'A',\n  'B',\n  'C'",
        "('A','B','C')",
        "@('A';'B';'C')",
    ],
)
def test_list_forms(written: str) -> None:
    command = one(
        f"New-InformationBarrierPolicy -Name P -AssignedSegment A -SegmentsBlocked {written}"
    )
    assert command.params["SegmentsBlocked"] == ("A", "B", "C")


def test_single_values_for_lists() -> None:
    for written in ("'A'", "A", "@('A')", "@(\n'A'\n)", "('A')"):
        command = one(f"Set-InformationBarrierPolicy P -SegmentsAllowed {written}")
        assert command.params["SegmentsAllowed"] == ("A",)
    assert (
        one("Set-InformationBarrierPolicy P -SegmentsAllowed @()").params["SegmentsAllowed"] == ()
    )


def test_an_empty_list_is_refused_by_the_core() -> None:
    config = segments("A")
    config = config.new_policy("P", "A", blocked=["A"])
    err = error_of("Set-InformationBarrierPolicy P -SegmentsAllowed @()", config)
    assert err.rule == "policy.list_nonempty"
    assert (err.line, err.column) == (1, 1)


def test_first_positional_parameter() -> None:
    assert one("New-OrganizationSegment 'HR' -UserGroupFilter x").params["Name"] == "HR"
    assert one("New-OrganizationSegment -UserGroupFilter x HR").params["Name"] == "HR"
    assert one("Set-OrganizationSegment HR -UserGroupFilter x").params["Identity"] == "HR"
    assert one("Remove-OrganizationSegment HR").params == {"Identity": "HR"}
    assert (
        one("New-InformationBarrierPolicy P -AssignedSegment A -SegmentsAllowed A").params["Name"]
        == "P"
    )
    assert one("Set-InformationBarrierPolicy P -State Active").params["Identity"] == "P"
    assert one("Remove-InformationBarrierPolicy -Identity:P -Confirm:$false").params == {
        "Identity": "P",
        "Confirm": False,
    }


def test_switches() -> None:
    command = one("Remove-InformationBarrierPolicy P -Confirm:$False -Force")
    assert command.params == {"Identity": "P", "Confirm": False, "Force": True}
    assert not command.what_if
    assert one("Remove-InformationBarrierPolicy P -WhatIf").what_if
    assert one("Remove-InformationBarrierPolicy P -WhatIf:$true").what_if
    assert not one("Remove-InformationBarrierPolicy P -WhatIf:$false").what_if
    assert one("Remove-InformationBarrierPolicy P -Confirm").params["Confirm"] is True


def test_moderation_allowed_takes_booleans() -> None:
    for written, value in (("$true", True), ("$FALSE", False), ("1", True), ("0", False)):
        command = one(f"Set-InformationBarrierPolicy P -ModerationAllowed {written}")
        assert command.params["ModerationAllowed"] is value


# -- statements, comments, continuations -----------------------------------------------------


def test_statement_separators_comments_and_continuations() -> None:
    text = (
        "New-OrganizationSegment -Name A -UserGroupFilter \"Department -eq 'A'\"; "
        "New-OrganizationSegment -Name B -UserGroupFilter \"Department -eq 'B'\" # trailing\n"
        "New-OrganizationSegment `\n"
        "    -Name C `   \n"  # blanks after a continuation backtick are tolerated
        "    -UserGroupFilter <# inline #> \"Department -eq 'C'\"\n"
        "New-OrganizationSegment -Name D <# a block comment\n"
        "spanning lines is a space #> -UserGroupFilter \"Department -eq 'D'\"\r\n"
        "\r\n"
        ";;\n"
        "New-InformationBarrierPolicy -Name P -AssignedSegment A -SegmentsBlocked @(\n"
        "    'B' # comment inside a list\n"
        "    'C'\n"
        ")\n"
    )
    config = run(text)
    assert [s.name for s in config.segments] == ["A", "B", "C", "D"]
    assert config.policy("P").segments == ("B", "C")
    lines = [(c.line, c.column) for c in parse_script(text)]
    assert lines == [(1, 1), (1, 72), (2, 1), (5, 1), (9, 1)]


def test_ignored_lines() -> None:
    text = (
        "Import-Module ExchangeOnlineManagement\n"
        "import-module -Name ExchangeOnlineManagement -MinimumVersion 3.0\n"
        "Connect-IPPSSession -UserPrincipalName $upn -Credential (Get-Credential)\n"
        'Connect-ExchangeOnline -UserPrincipalName "$env:USERNAME@contoso.com"\n'
        "Get-OrganizationSegment | Format-Table Name,UserGroupFilter\n"
        "Get-InformationBarrierPolicy |\n"
        "    Where-Object { $_.State -eq 'Active'\n"
        '                   -and $_.Name -like "Sales*" } |\n'
        "    Select-Object -ExpandProperty Name\n"
        "GET-INFORMATIONBARRIERRECIPIENTSTATUS -Identity meganb -Identity2 alexw\n"
        "Get-InformationBarrierPoliciesApplicationStatus -All; "
        "New-OrganizationSegment HR -UserGroupFilter \"Department -eq 'HR'\"\n"
        "Disconnect-ExchangeOnline -Confirm:$false\n"
    )
    commands = parse_script(text)
    assert [(c.cmdlet, c.line, c.column) for c in commands] == [("New-OrganizationSegment", 11, 55)]


def test_whatif_changes_nothing_but_is_validated() -> None:
    config = segments("A", "B")
    text = (
        "New-OrganizationSegment -Name C -UserGroupFilter \"Department -eq 'C'\" -WhatIf\n"
        "Remove-OrganizationSegment B -WhatIf\n"
        "New-InformationBarrierPolicy P -AssignedSegment A -SegmentsBlocked B -WhatIf\n"
        "Set-PolicyConfig -InformationBarrierPeopleSearchRestriction Disabled -WhatIf\n"
        "Start-InformationBarrierPoliciesApplication -WhatIf\n"
    )
    commands = parse_script(text)
    assert all(c.what_if for c in commands)
    after, starts = run_script(config, commands)
    assert after == config
    assert starts == []
    # validated against the config at that point: B does not exist here
    err = error_of("Remove-OrganizationSegment Z -WhatIf", config)
    assert (err.line, err.column) == (1, 1)
    assert err.cause_code == "not_found"
    assert "no segment named 'Z'" in err.detail


def test_iter_script_yields_the_config_after_each_command() -> None:
    text = (
        "New-OrganizationSegment A -UserGroupFilter \"Department -eq 'A'\"\n"
        "Start-InformationBarrierPoliciesApplication\n"
        "New-OrganizationSegment B -UserGroupFilter \"Department -eq 'B'\"\n"
        "Start-InformationBarrierPoliciesApplication -Confirm:$false\n"
    )
    commands = parse_script(text)
    steps = list(iter_script(BarrierConfig(), commands))
    assert [len(config.segments) for _, config in steps] == [1, 1, 2, 2]
    assert [command.applies for command, _ in steps] == [False, True, False, True]
    config, starts = run_script(BarrierConfig(), commands)
    assert starts == [1, 3]
    assert snapshot(config) == snapshot(steps[-1][1])


def test_every_cmdlet_maps_onto_the_core() -> None:
    text = """\
Set-PolicyConfig -InformationBarrierMode Legacy
New-OrganizationSegment -Name A -UserGroupFilter "Department -eq 'A'"
New-OrganizationSegment -Name B -UserGroupFilter "Department -eq 'B'"
New-OrganizationSegment -Name C -UserGroupFilter "Department -eq 'C'"
Set-OrganizationSegment -Identity C -UserGroupFilter "Company -like 'Fab*'"
New-InformationBarrierPolicy -Name PA -AssignedSegment A -SegmentsBlocked B -Comment 'note'
Set-InformationBarrierPolicy pa -SegmentsAllowed A,C -State Active -ModerationAllowed $true
New-InformationBarrierPolicy -Name PB -AssignedSegment B -SegmentsBlocked A
Remove-InformationBarrierPolicy -Identity PB -Confirm:$false
Remove-OrganizationSegment -Identity B -Confirm:$false
Set-OrganizationSegment A
Set-InformationBarrierPolicy PA
"""
    config = run(text)
    assert config.mode is Mode.LEGACY
    assert [(s.name, s.filter) for s in config.segments] == [
        ("A", "Department -eq 'A'"),
        ("C", "Company -like 'Fab*'"),
    ]
    (policy,) = config.policies
    assert (policy.name, policy.kind, policy.segments, policy.state) == (
        "PA",
        ListKind.ALLOW,
        ("A", "C"),
        PolicyState.ACTIVE,
    )
    assert policy.moderation_allowed is True
    assert policy.comment == "note"


def test_set_policy_config() -> None:
    config = run("Set-PolicyConfig -InformationBarrierPeopleSearchRestriction 'Disabled'")
    assert not config.people_search_restriction
    config = run(
        "Set-PolicyConfig -InformationBarrierMode MultiSegment "
        "-InformationBarrierPeopleSearchRestriction Disabled"
    )
    assert (config.mode, config.people_search_restriction) == (Mode.MULTI_SEGMENT, False)
    config = run(
        "Set-PolicyConfig -InformationBarrierPeopleSearchRestriction Enabled "
        "-InformationBarrierMode Legacy",
        BarrierConfig().set_people_search_restriction(False),
    )
    assert (config.mode, config.people_search_restriction) == (Mode.LEGACY, True)
    err = error_of(
        "Set-PolicyConfig -InformationBarrierMode SingleSegment",
        BarrierConfig().set_mode(Mode.MULTI_SEGMENT),
    )
    assert err.rule == "mode.from_multisegment"


def test_apply_command_on_hand_built_commands() -> None:
    command = ScriptCommand(
        "New-OrganizationSegment", {"Name": "A", "UserGroupFilter": "Co -eq 'x'"}
    )
    config = apply_command(BarrierConfig(), command)
    assert config.segment("A").filter == "Co -eq 'x'"
    start = ScriptCommand(START_APPLICATION, {}, line=3, column=5)
    assert apply_command(config, start) is config
    with pytest.raises(ScriptError, match=r"^line 1, column 1: New-OrganizationSegment: -Name"):
        apply_command(BarrierConfig(), ScriptCommand("New-OrganizationSegment", {}))
    bad = ScriptCommand("New-OrganizationSegment", {"Name": "B", "UserGroupFilter": "Nope -eq 'x'"})
    with pytest.raises(ScriptError) as info:
        apply_command(config, bad)
    assert (info.value.line, info.value.column, info.value.cause_code) == (1, 1, "filter_syntax")


def test_script_error_is_invalid_input() -> None:
    err = error_of("Foo-Bar")
    assert isinstance(err, InvalidInput)
    assert err.code == "script_error"
    assert str(err) == err.message
    assert err.message.startswith("line 1, column 1: unknown or unsupported cmdlet 'Foo-Bar'")


# -- errors, each at its line and column -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("Foo-Bar -Name x", 1, 1, "unknown or unsupported cmdlet 'Foo-Bar'"),
        ("\n  Set-ExecutionPolicy Bypass", 2, 3, "unknown or unsupported cmdlet"),
        ("New-OrganizationSegment -Name A -Filter x", 1, 33, "has no parameter -Filter"),
        ("New-OrganizationSegment -Name A", 1, 1, "missing -UserGroupFilter"),
        ("New-OrganizationSegment -UserGroupFilter x", 1, 1, "missing -Name"),
        ("New-InformationBarrierPolicy P -SegmentsAllowed A", 1, 1, "missing -AssignedSegment"),
        (
            "New-InformationBarrierPolicy P -AssignedSegment A",
            1,
            1,
            "missing -SegmentsAllowed or -SegmentsBlocked",
        ),
        ("Set-InformationBarrierPolicy -State Active", 1, 1, "missing -Identity"),
        ("Remove-OrganizationSegment", 1, 1, "missing -Identity"),
        (
            "New-OrganizationSegment -Name A -Name B -UserGroupFilter x",
            1,
            33,
            "-Name is given twice",
        ),
        ("New-OrganizationSegment A -Name B -UserGroupFilter x", 1, 27, "-Name is given twice"),
        ("Remove-OrganizationSegment A B", 1, 30, "unexpected argument an unquoted word 'B'"),
        ("New-OrganizationSegment -Name A,B -UserGroupFilter x", 1, 31, "single value, not a list"),
        ("New-OrganizationSegment -Name @('A') -UserGroupFilter x", 1, 31, "not a list"),
        ("Set-InformationBarrierPolicy P -Comment 'a' , 'b'", 1, 41, "not a list"),
        (
            "New-InformationBarrierPolicy P -AssignedSegment A -SegmentsAllowed A "
            "-SegmentsBlocked B",
            1,
            70,
            "-SegmentsBlocked cannot be used together with -SegmentsAllowed",
        ),
        ("Get-OrganizationSegment; New-OrganizationSegment A | Out-Null", 1, 52, "pipelines"),
        (
            "New-InformationBarrierPolicy P -AssignedSegment A -SegmentAllowedFilter 'x'",
            1,
            51,
            "-SegmentAllowedFilter of New-InformationBarrierPolicy is not supported",
        ),
        ("Set-InformationBarrierPolicy P -SegmentAllowed x", 1, 32, "is not supported"),
        ("Remove-OrganizationSegment A -Verbose", 1, 30, "-Verbose of Remove-OrganizationSegment"),
        ("Remove-OrganizationSegment A -ea Stop", 1, 30, "-ErrorAction"),
        ("Set-InformationBarrierPolicy P -Segments A", 1, 32, "-Segments is ambiguous"),
        ("Set-InformationBarrierPolicy P -C x", 1, 32, "ambiguous"),
        ("Start-InformationBarrierPoliciesApplication -Identity x", 1, 45, "not supported"),
        ("Start-InformationBarrierPoliciesApplication x", 1, 45, "-Identity"),
        ("Set-PolicyConfig -EnableLabelCoauth $true", 1, 18, "has no parameter -EnableLabelCoauth"),
        (
            "Set-PolicyConfig -InformationBarrierMode Dual",
            1,
            42,
            "must be Legacy, SingleSegment or MultiSegment",
        ),
        ("Set-PolicyConfig -InformationBarrierPeopleSearchRestriction", 1, 18, "needs a value"),
        ("Set-InformationBarrierPolicy P -State Enabled", 1, 39, "must be Active or Inactive"),
        ("Set-InformationBarrierPolicy P -ModerationAllowed 'yes'", 1, 51, "$true or $false"),
        ("Set-InformationBarrierPolicy P -ModerationAllowed", 1, 32, "needs a value"),
        ("Set-InformationBarrierPolicy P -Comment $true", 1, 41, "takes a text value"),
        ("Set-InformationBarrierPolicy P -SegmentsAllowed A,$false", 1, 51, "segment names"),
        ("Remove-OrganizationSegment A -Confirm $false", 1, 39, "unexpected argument"),
        ("Remove-OrganizationSegment A -Confirm:", 1, 39, "$true or $false after the colon"),
        ("Remove-OrganizationSegment A -Confirm:'no'", 1, 39, "$true or $false"),
        ("Remove-OrganizationSegment -Identity -Confirm:$false", 1, 28, "-Identity needs a value"),
        ('New-OrganizationSegment -Name "Sales $team" -UserGroupFilter x', 1, 38, "$team"),
        ('New-OrganizationSegment -Name "$($x)" -UserGroupFilter x', 1, 32, "subexpression"),
        ("New-OrganizationSegment -Name $name -UserGroupFilter x", 1, 31, "variable $name"),
        ("New-OrganizationSegment -Name Sales$x -UserGroupFilter x", 1, 36, "$x"),
        ("New-OrganizationSegment -Name ${n} -UserGroupFilter x", 1, 31, "variable ${n}"),
        ("New-OrganizationSegment -Name $(Get-X) -UserGroupFilter x", 1, 31, "subexpressions"),
        ("New-OrganizationSegment @params", 1, 25, "splatting"),
        ("$segment = 'HR'", 1, 1, "variables and assignments"),
        ("New-OrganizationSegment -Name 'HR -UserGroupFilter x", 1, 31, "never closed"),
        ('Set-InformationBarrierPolicy P -Comment "a`"', 1, 41, "never closed"),
        ("<# no end\nNew-OrganizationSegment", 1, 1, "block comment <# is never closed"),
        ("Set-InformationBarrierPolicy P -Comment @'\nno end\n", 1, 41, "here-string"),
        ("Set-InformationBarrierPolicy P -Comment @'x'@", 1, 41, "end of a line"),
        ("Set-InformationBarrierPolicy P -SegmentsAllowed @('A'", 1, 49, "never closed"),
        ("Set-InformationBarrierPolicy P -SegmentsAllowed @(A, B)", 1, 51, "put it in quotes"),
        ("Set-InformationBarrierPolicy P -SegmentsAllowed @('A' 'B')", 1, 55, "expected ','"),
        ("Set-InformationBarrierPolicy P -Comment 'a'b", 1, 44, "expected a space"),
        ("Set-InformationBarrierPolicy P -Comment a'b'", 1, 42, "a quote right after"),
        ('Set-InformationBarrierPolicy P -Comment"x"', 1, 40, "put a space between -Comment"),
        ("Set-InformationBarrierPolicy P -Comment 'a'-State Active", 1, 44, "expected a space"),
        ("Set-InformationBarrierPolicy P ` -State Active", 1, 32, "last character on the line"),
        ("Set-InformationBarrierPolicy P -Comment x > out.txt", 1, 43, "unexpected '>'"),
        ("New-OrganizationSegment A -UserGroupFilter x && Get-X", 1, 46, "unexpected '&&'"),
        ("{ New-OrganizationSegment }", 1, 1, "expected a cmdlet name, found '{'"),
        ("'New-OrganizationSegment'", 1, 1, "expected a cmdlet name"),
        ("Set-InformationBarrierPolicy P -Comment 'x')", 1, 44, "expected a space before ')'"),
        ("Set-InformationBarrierPolicy P -Comment 'x' )", 1, 45, "unexpected ')'"),
        ('Set-InformationBarrierPolicy P -Comment "`u{zz}"', 1, 42, "Unicode escape"),
    ],
)
def test_syntax_errors(text: str, line: int, column: int, words: str) -> None:
    err = error_of(text)
    assert (err.line, err.column) == (line, column), err.message
    assert words in err.detail
    assert err.message == f"line {line}, column {column}: {err.detail}"
    assert err.cause_code is None


def test_errors_inside_a_continued_command_and_after_a_block_comment() -> None:
    text = (
        "<# Contoso\n"
        "   barrier setup #>\n"
        "New-OrganizationSegment `\n"
        "  -Name 'HR' `\n"
        "  -UserGroupFilter \"Department -eq 'HR'\" `\n"
        "  -Bogus 1\n"
    )
    assert where(text) == (6, 3)
    text = "<# one #> <# two\n #> New-InformationBarrierPolicy P -AssignedSegment A -Bad x\n"
    assert where(text) == (2, 55)
    text = (
        "New-InformationBarrierPolicy -Name P `\n"
        "  -AssignedSegment A `\n"
        "  -SegmentsAllowed @(\n"
        "     'A'\n"
        "     $b\n"
        "  )\n"
    )
    assert where(text) == (5, 6)


def test_core_errors_name_the_command() -> None:
    config = segments("HR", "Sales")
    text = (
        "# policies\n"
        "New-InformationBarrierPolicy -Name P1 -AssignedSegment HR -SegmentsBlocked Sales\n"
        "  New-InformationBarrierPolicy -Name P2 -AssignedSegment hr -SegmentsBlocked Sales\n"
    )
    err = error_of(text, config)
    assert (err.line, err.column) == (3, 3)
    assert err.rule == "policy.one_per_segment"
    assert err.detail.startswith("New-InformationBarrierPolicy: policy 'P2': segment 'HR'")
    err = error_of("Remove-OrganizationSegment Nope", config)
    assert err.cause_code == "not_found"
    assert err.detail == "Remove-OrganizationSegment: no segment named 'Nope'"
    err = error_of("x; Set-InformationBarrierPolicy Nope -State Active", config)
    assert (err.line, err.column) == (1, 1)  # 'x' is an unknown cmdlet before anything runs
    err = error_of("Get-X; Set-InformationBarrierPolicy Nope -State Active", config)
    assert (err.line, err.column, err.cause_code) == (1, 8, "not_found")
    err = error_of(
        "New-InformationBarrierPolicy P -AssignedSegment HR -SegmentsAllowed HR,Legal", config
    )
    assert err.rule == "policy.listed_segment_exists"
    err = error_of("New-OrganizationSegment -Name HR -UserGroupFilter \"Co -eq 'x'\"", config)
    assert err.rule == "segment.name_unique"
    assert isinstance(err.__cause__, RuleViolation)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        # the filter starts at column 52 (after the opening quote at 51)
        ("New-OrganizationSegment -Name HR -UserGroupFilter \"Dept -eq 'HR'\"", 1, 52),
        ("New-OrganizationSegment -Name HR -UserGroupFilter \"Department -eq 'HR' -and\"", 1, 76),
        ("New-OrganizationSegment -Name HR -UserGroupFilter 'Department -eq ''HR'' -or ~'", 1, 78),
        # an escaped quote shifts the columns after it
        ('New-OrganizationSegment HR -UserGroupFilter "Co -eq `"x`" -and Nope -eq 1"', 1, 64),
        ("Set-OrganizationSegment HR `\n  -UserGroupFilter `\n  \"Company -eq 'A' -xor\"", 3, 20),
        (
            "Set-OrganizationSegment HR -UserGroupFilter @'\nCo -eq 'x'\n  -and (Co -eq 'y'\n'@",
            4,
            1,
        ),
        ('<# c\n #> Set-OrganizationSegment HR -UserGroupFilter "Co -like \'unclosed"', 2, 59),
        ("Set-OrganizationSegment HR -UserGroupFilter ''", 1, 46),
        ("Set-OrganizationSegment HR -UserGroupFilter Department", 1, 55),
    ],
)
def test_filter_errors_point_into_the_script(text: str, line: int, column: int) -> None:
    config = segments("HR") if "Set-OrganizationSegment" in text else BarrierConfig()
    err = error_of(text, config)
    assert (err.line, err.column) == (line, column), err.message
    assert err.cause_code == "filter_syntax"
    assert "filter error at column" in err.detail


# -- export -----------------------------------------------------------------------------------


def test_render_script_layout() -> None:
    config = segments("HR", "Sales", mode=Mode.MULTI_SEGMENT).set_people_search_restriction(False)
    config = config.new_policy(
        "HR's policy",
        "HR",
        allowed=["HR", "Sales"],
        state=PolicyState.ACTIVE,
        moderation_allowed=True,
        comment="costs $5; `tick` # not a comment",
    )
    text = render_script(config, header="Exported by infobarrier\ntenant contoso")
    assert text == (
        "# Exported by infobarrier\n"
        "# tenant contoso\n"
        "# Wall-crossing exceptions are left out: Microsoft information barriers have none.\n"
        "Set-PolicyConfig -InformationBarrierMode MultiSegment\n"
        "Set-PolicyConfig -InformationBarrierPeopleSearchRestriction Disabled\n"
        "New-OrganizationSegment -Name 'HR' -UserGroupFilter 'Department -eq ''HR'''\n"
        "New-OrganizationSegment -Name 'Sales' -UserGroupFilter 'Department -eq ''Sales'''\n"
        "New-InformationBarrierPolicy -Name 'HR''s policy' -AssignedSegment 'HR' "
        "-SegmentsAllowed 'HR','Sales' -State Active -ModerationAllowed $true "
        "-Comment 'costs $5; `tick` # not a comment'\n"
        "Start-InformationBarrierPoliciesApplication\n"
    )
    assert snapshot(run(text)) == snapshot(config)
    assert render_script(BarrierConfig(), include_application=False) == ""
    assert render_script(BarrierConfig()) == "Start-InformationBarrierPoliciesApplication\n"
    plain = render_script(segments("A"), include_application=False)
    assert plain == "New-OrganizationSegment -Name 'A' -UserGroupFilter 'Department -eq ''A'''\n"


def test_render_header_cannot_inject_commands() -> None:
    header = "line one\r\nNew-OrganizationSegment -Name X -UserGroupFilter 'Co -eq 1'\rend\n"
    text = render_script(BarrierConfig(), header=header)
    assert parse_script(text) == [ScriptCommand(START_APPLICATION, {}, line=6, column=1)]


def test_render_nasty_names_round_trip() -> None:
    names = [
        "it's",
        "\u2018smart\u2019 \u201cquotes\u201d",
        "$env:USERNAME",
        "back`tick",
        "#hash;semi",
        "two\nlines",
        "cr\rlf\r\n",
        "<# not a comment #>",
        '@("x")',
        "\u2013dash",
    ]
    config = BarrierConfig()
    # Line breaks may not be in names (core.limits), but may be in filter values and comments.
    for i, name in enumerate(names):
        value = name.replace("'", "''")
        segment = name if invisible_character(name) is None else f"segment {i}"
        config = config.new_segment(segment, f"ExtensionAttribute1 -eq '{value}{i}'")
    segment_names = [s.name for s in config.segments]
    config = config.new_policy(
        names[0],
        segment_names[1],
        blocked=segment_names[2:],
        comment="\n".join(names),
        state=PolicyState.ACTIVE,
    )
    assert snapshot(run(render_script(config))) == snapshot(config)


# -- property: render -> parse -> run gives back the config ------------------------------------

_NASTY = st.sampled_from(
    [
        *"'\"\u2018\u2019\u201a\u201b\u201c\u201d\u201e$`#;,|(){}@<>&\n\r\t -\u2013\u2014",
        "<#",
        "#>",
        "$true",
        "$x",
        "''",
        '""',
        "`n",
        "@'",
        "'@",
        "\r\n",
        "\u00a0",
        "\ufeff",
    ]
)
_PIECE = st.one_of(_NASTY, st.characters(codec="utf-8"))
_TEXT = st.lists(_PIECE, max_size=12).map("".join)
_NAME = (
    st.lists(_PIECE, min_size=1, max_size=16)
    .map("".join)
    .filter(lambda s: 1 <= len(s.strip()) <= 64 and invisible_character(s.strip()) is None)
)
_ATTRIBUTES = st.sampled_from(
    ["Department", "Company", "MemberOf", "ExtensionAttribute7", "CustomAttribute2", "co"]
)


def _filters() -> st.SearchStrategy[Expr]:
    comparison = st.builds(Comparison, _ATTRIBUTES, st.sampled_from(list(Op)), _TEXT)
    return st.recursive(
        comparison,
        lambda inner: st.one_of(
            st.builds(Not, inner),
            st.builds(And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
            st.builds(Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
        ),
        max_leaves=4,
    )


@st.composite
def configs(draw: st.DrawFn) -> BarrierConfig:
    config = BarrierConfig().set_mode(draw(st.sampled_from(list(Mode))))
    if config.mode is not Mode.LEGACY and draw(st.booleans()):
        config = config.set_people_search_restriction(False)
    for _ in range(draw(st.integers(0, 5))):
        name = draw(_NAME)
        expr = draw(_filters())
        text = render(expr) if draw(st.booleans()) else f"  {render(expr)}\n"
        if config.find_segment(name) is None:
            config = config.new_segment(name, text)
    names = [s.name for s in config.segments]
    for segment in names:
        if not draw(st.booleans()):
            continue
        listed = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
        allow = config.mode is Mode.MULTI_SEGMENT or draw(st.booleans())
        policy_name = draw(_NAME)
        if config.find_policy(policy_name) is not None:
            continue
        config = config.new_policy(
            policy_name,
            segment,
            allowed=listed if allow else None,
            blocked=None if allow else listed,
            state=draw(st.sampled_from(list(PolicyState))),
            moderation_allowed=draw(st.booleans()),
            comment=draw(_TEXT.filter(lambda t: "\x00" not in t)),  # NUL is refused
        )
    return config


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs(), st.booleans(), st.one_of(st.none(), _TEXT))
def test_render_parse_run_round_trip(
    config: BarrierConfig, include_application: bool, header: str | None
) -> None:
    text = render_script(config, include_application=include_application, header=header)
    commands = parse_script(text)
    rebuilt, starts = run_script(BarrierConfig(), commands)
    assert snapshot(rebuilt) == snapshot(config)
    assert starts == ([len(commands) - 1] if include_application else [])
    # and rendering the rebuilt config gives the same script
    assert render_script(rebuilt, include_application=include_application, header=header) == text


def test_line_endings_count_as_one_line() -> None:
    text = "Get-X\r\nGet-Y\rGet-Z\n\r\n  Remove-OrganizationSegment Nope\r\n"
    assert where(text) == (5, 3)


_PIECES = st.sampled_from(
    [
        *("New-OrganizationSegment", "Set-InformationBarrierPolicy", "Get-X", "-Name", "-N:"),
        *(" ", "\n", "\r\n", "`", "`\n", "'", '"', "''", "$", "$true", "$x", "$(", "${"),
        *("@(", "(", ")", ",", ";", "|", "#", "<#", "#>", "@'\n", "\n'@", '@"\n', "{", "}"),
        *("x", "-UserGroupFilter", "Department -eq 'x'", "`u{41}", "-Confirm:", "\u2013", "&&"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(_PIECES, max_size=25).map("".join), st.text()))
def test_any_text_either_imports_or_raises_a_script_error(text: str) -> None:
    error: ScriptError | None = None
    try:
        run_script(BarrierConfig(), parse_script(text))
    except ScriptError as exc:
        error = exc
    if error is not None:
        assert error.line >= 1
        assert error.column >= 1
        assert error.message.startswith(f"line {error.line}, column {error.column}: ")
