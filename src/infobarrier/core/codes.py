"""Every machine-readable code infobarrier answers with, one enum per kind.

``docs/semantics.md`` ("Codes") documents each value once; adapters map them to HTTP
statuses (``http/errors.py``) and CLI exit codes (``cli/output.py``) with one table each.
The values are part of the API: never rename one.
"""

from __future__ import annotations

from enum import StrEnum


class VerdictCode(StrEnum):
    """Why a decision came out as it did (the ``code`` of a verdict, semantics §6, §7)."""

    SAME_USER = "same_user"
    ACCOUNT_DISABLED = "account_disabled"
    POLICY_CONFLICT = "policy_conflict"
    HIDDEN = "hidden"
    UNSEGMENTED = "unsegmented"
    ONE_UNSEGMENTED = "one_unsegmented"
    BLOCKED_UNSEGMENTED = "blocked_unsegmented"
    PERMITTED = "permitted"
    BLOCKED_BY_POLICY = "blocked_by_policy"
    SEARCH_UNRESTRICTED = "search_unrestricted"
    ALL_COMPATIBLE = "all_compatible"
    #: A block from segments and policies that a wall-crossing exception opens (§11).
    ALLOWED_BY_EXCEPTION = "allowed_by_exception"


class ErrorCode(StrEnum):
    """What was wrong with a request (the ``code`` of an error)."""

    ERROR = "error"
    # Bad input: nothing was changed.
    INVALID_INPUT = "invalid_input"
    INVALID_JSON = "invalid_json"
    INVALID_REQUEST = "invalid_request"
    INVALID_CHECK = "invalid_check"
    TOO_MANY_CHECKS = "too_many_checks"
    # A limit of core.limits (docs/security.md, "Limits").
    TOO_LONG = "too_long"
    TOO_LARGE = "too_large"
    INVALID_UPN = "invalid_upn"
    INVALID_IDENTIFIER = "invalid_identifier"
    FILTER_SYNTAX = "filter_syntax"
    RULE_VIOLATION = "rule_violation"
    CSV_ERROR = "csv_error"
    SCRIPT_ERROR = "script_error"
    # Something named does not exist.
    NOT_FOUND = "not_found"
    UNKNOWN_USER = "unknown_user"
    UNKNOWN_SEGMENT = "unknown_segment"
    UNKNOWN_EXCEPTION = "unknown_exception"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # Clashes with the current state.
    CONFLICT = "conflict"
    TENANT_EXISTS = "tenant_exists"
    USER_EXISTS = "user_exists"
    GROUP_EXISTS = "group_exists"
    APPLY_RUNNING = "apply_running"
    # Wall-crossing exceptions (semantics §11).
    EXCEPTION_STATE = "exception_state"
    FOUR_EYES = "four_eyes"
    PERSON_REQUIRED = "person_required"
    # Licensing (semantics §2).
    LICENSING = "licensing"
    INVALID_SEATS = "invalid_seats"
    SEATS_IN_USE = "seats_in_use"
    GUEST_NOT_ALLOWED = "guest_not_allowed"
    OUT_OF_SEATS = "out_of_seats"
    LICENSE_REQUIRED = "license_required"
    # The collaboration service refused (semantics §7); a barrier refusal carries the
    # verdict's own code instead (a :class:`VerdictCode`).
    REFUSED = "refused"
    CHAT_READ_ONLY = "chat_read_only"
    REMOVED_FROM_CHAT = "removed_from_chat"
    NOT_INVITED = "not_invited"
    # Authentication and authorization.
    UNAUTHENTICATED = "unauthenticated"
    INVALID_TOKEN = "invalid_token"
    FORBIDDEN = "forbidden"
    # The store's write lock could not be had in time: nothing changed, try again.
    BUSY = "busy"
    # Anything else an HTTP server reports.
    HTTP_ERROR = "http_error"


class ApplicationState(StrEnum):
    """The status of an application (semantics §5)."""

    NOT_STARTED = "NotStarted"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"


#: A code of either kind (a refusal by the barrier carries the verdict's code).
Code = ErrorCode | VerdictCode
