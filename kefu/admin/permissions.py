"""Roles and their permissions: explicit, deny by default.

Every admin API endpoint names the one permission it needs (``kefu.channels.admin``); a
role has exactly the permissions listed here and nothing else.
"""

from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    ADMIN = "admin"
    AGENT = "agent"
    CUSTOMER = "customer"


class Permission(str, Enum):
    OWN_ACCOUNT = "own_account"  # who am I, log out
    MANAGE_USERS = "manage_users"
    VIEW_ROLES = "view_roles"
    VIEW_FAQ = "view_faq"
    CREATE_KNOWLEDGE = "create_knowledge"
    EDIT_KNOWLEDGE = "edit_knowledge"
    DELETE_KNOWLEDGE = "delete_knowledge"
    HANDOFF_VIEW = "handoff_view"
    HANDOFF_CLAIM = "handoff_claim"
    HANDOFF_REPLY = "handoff_reply"
    HANDOFF_CLOSE = "handoff_close"
    CREATE_SESSION = "create_session"
    VIEW_SESSION = "view_session"
    END_SESSION = "end_session"
    SEND_MESSAGE = "send_message"
    SEARCH_CONVERSATIONS = "search_conversations"
    VIEW_ANALYTICS = "view_analytics"
    VIEW_VERIFICATION_LOCKS = "view_verification_locks"  # phone-digit lock-outs (kefu.security.verification)
    CLEAR_VERIFICATION_LOCKS = "clear_verification_locks"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.OWN_ACCOUNT,
            Permission.MANAGE_USERS,
            Permission.VIEW_ROLES,
            Permission.VIEW_FAQ,
            Permission.CREATE_KNOWLEDGE,
            Permission.EDIT_KNOWLEDGE,
            Permission.DELETE_KNOWLEDGE,
            Permission.HANDOFF_VIEW,
            Permission.CREATE_SESSION,
            Permission.VIEW_SESSION,
            Permission.END_SESSION,
            Permission.SEND_MESSAGE,
            Permission.SEARCH_CONVERSATIONS,
            Permission.VIEW_ANALYTICS,
            Permission.VIEW_VERIFICATION_LOCKS,
            Permission.CLEAR_VERIFICATION_LOCKS,
        }
    ),
    Role.AGENT: frozenset(
        {
            Permission.OWN_ACCOUNT,
            Permission.VIEW_FAQ,
            Permission.HANDOFF_VIEW,
            Permission.HANDOFF_CLAIM,
            Permission.HANDOFF_REPLY,
            Permission.HANDOFF_CLOSE,
            Permission.VIEW_SESSION,
            Permission.SEARCH_CONVERSATIONS,
            Permission.VIEW_ANALYTICS,
            Permission.VIEW_VERIFICATION_LOCKS,
        }
    ),
    # A customer's own sessions only: the endpoints check that the session is theirs.
    Role.CUSTOMER: frozenset(
        {
            Permission.OWN_ACCOUNT,
            Permission.VIEW_FAQ,
            Permission.CREATE_SESSION,
            Permission.VIEW_SESSION,
            Permission.SEND_MESSAGE,
        }
    ),
}


def allowed(role: Role | str | None, permission: Permission) -> bool:
    """True only when ``role`` is a known role that lists ``permission``."""
    try:
        known = Role(role) if role is not None else None
    except ValueError:
        return False
    return known is not None and permission in ROLE_PERMISSIONS[known]
