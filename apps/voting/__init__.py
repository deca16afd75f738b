"""The PTA voting app: elections, sign-in codes, secret ballots, results and the audit log.

The secret ballot: `election_participation` says who voted for which position, and
`election_choices` which candidate a ballot chose; nothing links the two. A cast writes the
participation and a sealed ballot in one transaction (the unique (member, position) constraint
on participation is what makes a second vote fail, however many arrive at once); the ballot is
released later, in a shuffled batch of others, in a transaction of its own (apps/voting/box.py).
"""

from __future__ import annotations

from apps.voting import box
from apps.voting.admin import (
    add_candidate,
    add_position,
    create_election,
    edit_election,
    import_members,
    remove_candidate,
    set_status,
)
from apps.voting.common import (
    CODE_MINUTES,
    CODE_WINDOW,
    CODES_PER_ADDRESS,
    CODES_PER_WINDOW,
    MAX_ATTEMPTS,
    SESSION_MINUTES,
    BadCode,
    Conflict,
    Invalid,
    Mailer,
    NotFound,
    RateLimited,
    Unavailable,
    VotingError,
)
from apps.voting.reading import (
    audit_log,
    describe,
    list_elections,
    outbox,
    results,
    results_csv,
    turnout,
)
from apps.voting.voters import (
    EXPIRED,
    NO_CODE,
    SPENT,
    audience,
    ballot,
    cast,
    check_receipt,
    request_code,
    verify_code,
)

__all__ = [
    "BadCode",
    "CODES_PER_ADDRESS",
    "CODES_PER_WINDOW",
    "CODE_MINUTES",
    "CODE_WINDOW",
    "Conflict",
    "EXPIRED",
    "Invalid",
    "MAX_ATTEMPTS",
    "Mailer",
    "NO_CODE",
    "NotFound",
    "RateLimited",
    "SESSION_MINUTES",
    "SPENT",
    "Unavailable",
    "VotingError",
    "add_candidate",
    "add_position",
    "audience",
    "audit_log",
    "ballot",
    "box",
    "cast",
    "check_receipt",
    "create_election",
    "describe",
    "edit_election",
    "import_members",
    "list_elections",
    "outbox",
    "remove_candidate",
    "request_code",
    "results",
    "results_csv",
    "set_status",
    "turnout",
    "verify_code",
]
