"""The relational schema, as SQLAlchemy Core tables (SQLite and PostgreSQL).

This module describes the *current* schema, which queries use; the migrations in
``connector/migrations/versions`` build it step by step, and a test checks that the two agree.
Timestamps are always timezone-aware UTC (:class:`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so migrations can refer to them on every backend.
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out — also on SQLite, which has no zones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


ROLES = ("agent", "supervisor", "admin")

agents = Table(
    "agents", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(15), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("nickname", String(50), nullable=False, server_default=""),
    Column("email", String(254), nullable=False, server_default=""),
    Column("extension", String(10), nullable=False, server_default=""),
    Column("role", String(16), nullable=False, server_default="agent"),
    Column("language", String(8), nullable=False, server_default="ja"),
    Column("password_hash", String(255), nullable=False),
    Column("previous_password_hash", String(255)),
    Column("pin_hash", String(255)),  # connector.auth.pins: a desk phone's free-desk code
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("role IN ('agent', 'supervisor', 'admin')", name="role"),
)

auth_sessions = Table(
    "auth_sessions", metadata,
    Column("id", String(32), primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("refresh_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("user_agent", String(255), nullable=False, server_default=""),
)

phone_numbers = Table(
    "phone_numbers", metadata,
    Column("id", Integer, primary_key=True),
    Column("e164", String(20), nullable=False, unique=True),
    Column("label", String(100), nullable=False, server_default=""),
    Column("route_type", String(16), nullable=False, server_default="none"),
    Column("route_target", String(100), nullable=False, server_default=""),
    Column("caller_id_name", String(100), nullable=False, server_default=""),
    Column("recording", Boolean, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Voice (migration 0005_voice): where calls go when the route finds nobody, and the caller
    # ID of an external transfer ("" = the called number, CF-8).
    Column("fallback_type", String(16), nullable=False, server_default="none"),
    Column("fallback_target", String(100), nullable=False, server_default=""),
    Column("transfer_caller_id", String(20), nullable=False, server_default=""),
    # Per-number settings (migration 0012_numbers, CF-1, HT-2): concurrent calls allowed
    # (0 = no limit), where calls over it go ("none" = a busy announcement), and the pages the
    # softphone opens on ring and on answer (@@@@ = the caller's number).
    Column("max_channels", Integer, nullable=False, server_default="0"),
    Column("overflow_type", String(16), nullable=False, server_default="none"),
    Column("overflow_target", String(100), nullable=False, server_default=""),
    Column("ring_popup_url", String(1000), nullable=False, server_default=""),
    Column("answer_popup_url", String(1000), nullable=False, server_default=""),
)

calls = Table(
    "calls", metadata,
    Column("call_sid", String(34), primary_key=True),
    Column("parent_call_sid", String(34), index=True),
    Column("direction", String(8), nullable=False),
    Column("from_number", String(64), nullable=False, server_default=""),
    Column("to_number", String(64), nullable=False, server_default=""),
    Column("customer_number", String(20), nullable=False, server_default=""),
    Column("our_number", String(20), nullable=False, server_default=""),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="SET NULL"), index=True),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("duration_seconds", Integer),
    Column("talk_seconds", Integer),
    Column("recording_sid", String(34)),
    Column("recording_duration", Integer),
    Column("disposition", String(100), nullable=False, server_default=""),
    Column("notes", Text, nullable=False, server_default=""),
    Column("customer", JSON),
    Column("finalized_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Voice (migration 0005_voice): which leg this row is (customer, agent, external), the
    # business outcome once final (answered, voicemail, missed, rejected, refused …) with a
    # detail code, and the group the call came through.
    Column("leg", String(16), nullable=False, server_default=""),
    Column("outcome", String(16), nullable=False, server_default=""),
    Column("detail", String(64), nullable=False, server_default=""),
    Column("group_id", Integer, ForeignKey("agent_groups.id", ondelete="SET NULL")),
    # How many dialed legs the TwiML we served creates: the call is final only once that many
    # have reported their end, whatever order Twilio's callbacks arrive in.
    Column("expected_legs", Integer, nullable=False, server_default="0"),
    # Charges (migration 0013_charges, SPEC ST-6): this leg's price from its Twilio Call
    # resource — Twilio's text, the cost in millionths of the unit, and where fetching stands
    # ("" not yet, "priced", "unpriced", "missing"; connector.voice.charges).
    Column("price", String(16)),
    Column("price_unit", String(3)),
    Column("charge_micros", BigInteger),
    Column("price_status", String(12), nullable=False, server_default=""),
    Column("price_checked_at", UTCDateTime),
    CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
    Index("ix_calls_started_at", "started_at"),
    # Statistics (migration 0010_console): a group's or a number's calls of a period.
    Index("ix_calls_group_started", "group_id", "started_at"),
    Index("ix_calls_number_started", "our_number", "started_at"),
    Index("ix_calls_price_pending", "price_status", "ended_at"),
)

call_events = Table(
    "call_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("call_sid", String(34), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False, server_default=""),
    Column("dedupe_key", String(160), nullable=False, unique=True),
    Column("payload", JSON, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

crm_writebacks = Table(
    "crm_writebacks", metadata,
    Column("id", Integer, primary_key=True),
    Column("call_sid", String(34), nullable=False),
    Column("adapter", String(64), nullable=False),
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("revision", Integer, nullable=False, server_default="1"),
    Column("written_revision", Integer, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("record_id", String(64), nullable=False, server_default=""),
    Column("next_attempt_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # A worker claims rows for a lease; a killed worker's claim simply expires.
    Column("claim_token", String(32)),
    Column("claimed_until", UTCDateTime),
    UniqueConstraint("call_sid", "adapter", name="uq_crm_writebacks_call_adapter"),
    CheckConstraint("state IN ('pending', 'done', 'failed')", name="state"),
    Index("ix_crm_writebacks_state", "state", "adapter"),
    Index("ix_crm_writebacks_due", "adapter", "state", "next_attempt_at"),
)

stop_statuses = Table(
    "stop_statuses", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("icon", String(50), nullable=False, server_default=""),
    Column("color", String(16), nullable=False, server_default=""),
    Column("sort_order", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
)

PRESENCE_STATUSES = ("available", "ringing", "on_call", "hold", "away", "acw", "paused",
                     "offline")

agent_presence = Table(
    "agent_presence", metadata,
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False, server_default="offline"),
    Column("stop_status_id", Integer, ForeignKey("stop_statuses.id", ondelete="SET NULL")),
    Column("since", UTCDateTime, nullable=False),
    Column("updated_by", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("device_id", String(64)),
    Column("device_seen_at", UTCDateTime),
    # Server-owned presence (migration 0009_acd): the call the agent is claimed for, the group
    # it came through, when a timed status (後処理, an auto-pause) ends and what follows it —
    # the status the agent last chose — and unanswered rings in a row.
    Column("call_sid", String(34)),
    Column("group_id", Integer),
    Column("until", UTCDateTime),
    Column("chosen_status", String(16)),
    Column("chosen_stop_status_id", Integer),
    Column("ring_outs", Integer, nullable=False, server_default="0"),
    CheckConstraint("status IN ('available', 'ringing', 'on_call', 'hold', 'away', 'acw', "
                    "'paused', 'offline')", name="status"),
)

# One row per stretch of one status (SPEC ST-4 reads it); the open one has no ``ended_at``.
agent_status_intervals = Table(
    "agent_status_intervals", metadata,
    Column("id", Integer, primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("stop_status_id", Integer, ForeignKey("stop_statuses.id", ondelete="SET NULL")),
    Column("group_id", Integer, ForeignKey("agent_groups.id", ondelete="SET NULL")),
    Column("call_sid", String(34)),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Index("ix_agent_status_intervals_agent_start", "agent_id", "started_at"),
    Index("ix_agent_status_intervals_start", "started_at"),
)

# -- CRM layer: local phone index, sync state, agents' choices, CRM user mapping ---------------

phone_index = Table(
    "phone_index", metadata,
    Column("id", Integer, primary_key=True),
    Column("e164", String(20), nullable=False, index=True),
    Column("adapter", String(64), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("display_name", String(255), nullable=False, server_default=""),
    Column("object_type", String(64), nullable=False, server_default=""),
    Column("company", String(255), nullable=False, server_default=""),
    Column("url", String(1000), nullable=False, server_default=""),
    Column("updated_at", String(40), nullable=False, server_default=""),  # the CRM's own stamp
    Column("synced_at", UTCDateTime, nullable=False),
    UniqueConstraint("adapter", "record_id", "e164", name="uq_phone_index_entry"),
)

crm_sync_state = Table(
    "crm_sync_state", metadata,
    Column("adapter", String(64), primary_key=True),
    Column("cursor", String(40), nullable=False, server_default=""),
    Column("last_sync_at", UTCDateTime),
    Column("last_full_sync_at", UTCDateTime),
    Column("records_seen", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=""),
)

number_choices = Table(
    "number_choices", metadata,
    Column("e164", String(20), primary_key=True),
    Column("adapter", String(64), primary_key=True),
    Column("record_id", String(64), nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("chosen_at", UTCDateTime, nullable=False),
)

agent_crm_users = Table(
    "agent_crm_users", metadata,
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("adapter", String(64), primary_key=True),
    Column("crm_user", String(255), nullable=False),
)

# -- built-in CRM (SPEC CR-1) -----------------------------------------------------------------
# The embedded CRM for users without one. crm_adapters/builtin/tables.py declares the columns its
# adapter reads and writes (it may not import connector); a test checks the two agree.

customers = Table(
    "customers", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_kana", String(200), nullable=False, server_default=""),  # katakana, for search
    Column("company", String(200), nullable=False, server_default=""),
    Column("notes", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    # Bumped by every change, phone numbers and tags included: the phone index syncs by it.
    Column("updated_at", UTCDateTime, nullable=False),
    # Deleted customers stay (their call history keeps its link) and are synced without numbers,
    # so the phone index forgets them.
    Column("deleted_at", UTCDateTime),
    Index("ix_customers_updated_at", "updated_at", "id"),
)

customer_phones = Table(
    "customer_phones", metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("label", String(50), nullable=False, server_default=""),
    Column("number", String(64), nullable=False),  # as typed
    Column("e164", String(20), nullable=False, index=True),
    UniqueConstraint("customer_id", "e164", name="uq_customer_phones_customer_e164"),
)

customer_tags = Table(
    "customer_tags", metadata,
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"),
           primary_key=True),
    Column("tag", String(50), primary_key=True),
    Index("ix_customer_tags_tag", "tag"),
)

customer_call_logs = Table(
    "customer_call_logs", metadata,
    Column("id", Integer, primary_key=True),
    Column("call_sid", String(34), nullable=False, unique=True),  # the upsert key
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="SET NULL"), index=True),
    Column("direction", String(8), nullable=False),
    Column("status", String(16), nullable=False, server_default=""),
    Column("from_number", String(64), nullable=False, server_default=""),
    Column("to_number", String(64), nullable=False, server_default=""),
    Column("customer_number", String(20), nullable=False, server_default="", index=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("duration_seconds", Integer, nullable=False, server_default="0"),
    Column("talk_seconds", Integer, nullable=False, server_default="0"),
    Column("agent_username", String(64), nullable=False, server_default=""),
    Column("agent_name", String(200), nullable=False, server_default=""),
    Column("disposition", String(100), nullable=False, server_default=""),
    Column("notes", Text, nullable=False, server_default=""),
    Column("recording_url", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
    Index("ix_customer_call_logs_started_at", "started_at"),
)

# --- Voice: groups, caller IDs, block and restriction lists (migration 0005_voice) ---------

agent_groups = Table(
    "agent_groups", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("settings", JSON),  # ACD settings (connector.acd.settings), validated on save
)

agent_group_members = Table(
    "agent_group_members", metadata,
    Column("group_id", Integer, ForeignKey("agent_groups.id", ondelete="CASCADE"),
           primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("skill", Integer, nullable=False, server_default="1"),  # 1 = best (skill-weighted)
)

agent_caller_ids = Table(
    "agent_caller_ids", metadata,
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("phone_number_id", Integer, ForeignKey("phone_numbers.id", ondelete="CASCADE"),
           primary_key=True),
    Column("is_default", Boolean, nullable=False, server_default="0"),
)

NUMBER_LISTS = ("block", "restrict")

number_list_rules = Table(
    "number_list_rules", metadata,
    Column("id", Integer, primary_key=True),
    Column("list_name", String(16), nullable=False),
    Column("pattern", String(40), nullable=False),
    Column("note", String(200), nullable=False, server_default=""),
    Column("created_by", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("list_name", "pattern", name="uq_number_list_rules_list_pattern"),
    CheckConstraint("list_name IN ('block', 'restrict')", name="list_name"),
)

#: One row per cached piece of voice configuration (``block``, ``restrict``, ``routing``);
#: ``version`` grows with every change, so each process reloads its copy only then.
voice_versions = Table(
    "voice_versions", metadata,
    Column("name", String(16), primary_key=True),
    Column("version", Integer, nullable=False, server_default="0"),
)

# -- softphone call control (hold, transfer) ----------------------------------------------------

CALL_CONTROL_STATES = ("active", "held", "consulting", "transferring", "transferred", "ended")

#: One row per call the softphone has held or transferred: which leg is the customer's, where
#: it waits (the hold queue) and what the agent is doing with it. Keyed by the call record's
#: CallSid (the one wrap-up uses).
call_controls = Table(
    "call_controls", metadata,
    Column("call_sid", String(34), primary_key=True),
    Column("customer_call_sid", String(34), nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="SET NULL"), index=True),
    Column("state", String(16), nullable=False),
    Column("queue_name", String(64), nullable=False),
    Column("our_number", String(20), nullable=False, server_default=""),
    Column("target_kind", String(16), nullable=False, server_default=""),
    Column("target", String(100), nullable=False, server_default=""),
    Column("target_label", String(100), nullable=False, server_default=""),
    Column("consult_call_sid", String(34)),
    Column("context", JSON),
    Column("last_error", String(200), nullable=False, server_default=""),
    Column("held_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("state IN ('active', 'held', 'consulting', 'transferring', 'transferred', "
                    "'ended')", name="state"),
)

# -- call flows (migration 0007_flows) -----------------------------------------------------------

#: Every imported version of every flow, as its canonical TOML (voice.flows.tomlio); the
#: highest version of a name is the one new calls enter. A ``flows`` row in ``voice_versions``
#: tells the processes to reload.
call_flows = Table(
    "call_flows", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("created_by", String(15), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("name", "version", name="uq_call_flows_name_version"),
)

#: A temporary detour of one schedule node ("本日は臨時休業") until ``until``.
flow_overrides = Table(
    "flow_overrides", metadata,
    Column("flow", String(40), primary_key=True),
    Column("node", String(40), primary_key=True),
    Column("goto", String(40), nullable=False),
    Column("until", UTCDateTime, nullable=False),
    Column("note", String(200), nullable=False, server_default=""),
    Column("created_by", String(15), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

#: Uploaded announcement audio (AD-6), checked on upload, served to Twilio by signed URL.
flow_audio = Table(
    "flow_audio", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("content_type", String(40), nullable=False),
    Column("description", String(200), nullable=False, server_default=""),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

#: Voicemail left through a flow's voicemail node (CF-7): which box, who is told, and the
#: supervisors' marks. The recording itself is on the call record.
voicemails = Table(
    "voicemails", metadata,
    Column("call_sid", String(34), primary_key=True),
    Column("flow", String(40), nullable=False),
    Column("node", String(40), nullable=False),
    Column("box", String(100), nullable=False, server_default=""),
    Column("notify", JSON),
    Column("notified_at", UTCDateTime),
    Column("notice_error", String(200), nullable=False, server_default=""),
    Column("handled_at", UTCDateTime),
    Column("handled_by", String(15), nullable=False, server_default=""),
    Column("deleted_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_voicemails_created_at", "created_at"),
)

# --- Integrations (migration 0008_integrations): URL templates sent, SMS -----------------------

#: Which event template of which HTTP integration was sent for which call (exactly once);
#: crm_adapters/httptemplate/ledger.py declares the same columns.
http_template_sent = Table(
    "http_template_sent", metadata,
    Column("adapter", String(64), primary_key=True),
    Column("call_sid", String(34), primary_key=True),
    Column("event", String(16), primary_key=True),
    Column("state", String(8), nullable=False),  # "sending" | "sent"
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
)

SMS_DIRECTIONS = ("inbound", "outbound")

#: Every SMS sent or received (SPEC SM-1), on the customer's history by number.
sms_messages = Table(
    "sms_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("message_sid", String(34), unique=True),  # Twilio's SM…/MM…; null until accepted
    Column("direction", String(8), nullable=False),
    Column("our_number", String(20), nullable=False),
    Column("customer_number", String(20), nullable=False, index=True),
    Column("sender_id", String(20), nullable=False, server_default=""),  # alphanumeric sender
    Column("body", Text, nullable=False),
    Column("segments", Integer, nullable=False, server_default="1"),
    Column("status", String(16), nullable=False),
    Column("error_code", String(16), nullable=False, server_default=""),
    Column("template", String(64), nullable=False, server_default=""),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="SET NULL"), index=True),
    Column("call_sid", String(34)),  # the call it follows up, if any
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
    Index("ix_sms_messages_created_at", "created_at"),
)

#: Short URLs of sent SMS (SPEC SM-1): ``/s/<code>`` redirects to ``url`` until ``expires_at``.
sms_links = Table(
    "sms_links", metadata,
    Column("code", String(16), primary_key=True),
    Column("url", Text, nullable=False),
    Column("message_id", Integer, ForeignKey("sms_messages.id", ondelete="CASCADE"),
           index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("clicks", Integer, nullable=False, server_default="0"),
    Column("last_clicked_at", UTCDateTime),
)

#: Admin-managed SMS texts with placeholders (SPEC SM-1).
sms_templates = Table(
    "sms_templates", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# -- supervisor and admin console (migration 0010_console) -------------------------------------

#: Overrides of the built-in permissions (connector/console/permissions.py holds the defaults).
console_permissions = Table(
    "console_permissions", metadata,
    Column("role", String(16), primary_key=True),
    Column("screen", String(32), primary_key=True),
    Column("action", String(16), primary_key=True),
    Column("allowed", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
)

#: Settings admins change on screens (IP allowlists, retention): one JSON value per key.
console_settings = Table(
    "console_settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
)

#: Who changed which setting, and every sign-in, from where (SPEC AD-2, AD-4).
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("actor", String(64), nullable=False, server_default=""),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False, server_default=""),
    Column("details", JSON),
    Column("ip", String(64), nullable=False, server_default=""),
    Column("user_agent", String(255), nullable=False, server_default=""),
    Index("ix_audit_log_at", "at"),
)

# -- outbound campaigns (migration 0011_campaigns, SPEC CA-1) ------------------------------

#: A campaign: its settings (voice.campaigns.settings, as JSON) and where it stands.
campaigns = Table(
    "campaigns", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("status", String(16), nullable=False, server_default="draft"),
    Column("settings", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("created_by", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    CheckConstraint("status IN ('draft', 'running', 'paused', 'stopped', 'completed')",
                    name="status"),
)

#: One callee of a campaign. ``state``: pending (due at ``due_at``), dialing, preview (shown
#: to ``owner_agent_id``), wrapup (talked; the agent's result is awaited), done (final).
#: A recall is a pending contact with ``recall_at`` set, owned by the agent who asked for it
#: (or nobody: for the campaign).
campaign_contacts = Table(
    "campaign_contacts", metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"),
           nullable=False),
    Column("line", Integer, nullable=False, server_default="0"),
    Column("e164", String(20), nullable=False),
    Column("display", String(32), nullable=False, server_default=""),
    Column("name", String(200), nullable=False, server_default=""),
    Column("company", String(200), nullable=False, server_default=""),
    Column("crm_id", String(100), nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
    Column("extra", JSON),
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("due_at", UTCDateTime, nullable=False),
    Column("owner_agent_id", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("recall_at", UTCDateTime),
    Column("result", String(32), nullable=False, server_default=""),
    Column("agent_note", Text, nullable=False, server_default=""),
    Column("last_call_sid", String(34)),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("campaign_id", "e164", name="uq_campaign_contacts_campaign_e164"),
    # The dialing decision: the due contacts of one campaign, earliest first.
    Index("ix_campaign_contacts_due", "campaign_id", "state", "due_at"),
    Index("ix_campaign_contacts_recall", "campaign_id", "state", "recall_at"),
    # The softphone's campaign panel: the agent's contact now, their recall list.
    Index("ix_campaign_contacts_owner", "owner_agent_id", "state"),
)

#: Every dial of a contact (one call record each) and how it went.
campaign_attempts = Table(
    "campaign_attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"),
           nullable=False),
    Column("contact_id", Integer, ForeignKey("campaign_contacts.id", ondelete="CASCADE"),
           nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("call_sid", String(34), unique=True),
    Column("number", Integer, nullable=False),  # the contact's 1st, 2nd … attempt
    Column("started_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),  # the callee answered
    Column("bridged_at", UTCDateTime),  # the agent answered
    Column("ended_at", UTCDateTime),
    Column("result", String(32), nullable=False, server_default=""),
    Column("talk_seconds", Integer, nullable=False, server_default="0"),
    Index("ix_campaign_attempts_campaign", "campaign_id", "started_at"),
)

#: Numbers never to call from any campaign (発信停止), with why and who said so.
do_not_call = Table(
    "do_not_call", metadata,
    Column("e164", String(20), primary_key=True),
    Column("note", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
)

# -- supervisor monitoring (migration 0012_monitor, SPEC CF-11) ------------------------------

#: One stretch of one mode of a supervisor on an agent's call (a switch closes one, opens the
#: next): who, whom, which call, how, when — and from where they listened.
monitor_sessions = Table(
    "monitor_sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("supervisor_id", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("supervisor", String(64), nullable=False, server_default=""),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("call_sid", String(34), nullable=False),
    Column("supervisor_call_sid", String(34), nullable=False, server_default=""),
    Column("joined_from", String(80), nullable=False, server_default=""),
    Column("mode", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("end_reason", String(32), nullable=False, server_default=""),
    CheckConstraint("mode IN ('monitor', 'whisper', 'barge')", name="mode"),
    Index("ix_monitor_sessions_started", "started_at"),
    Index("ix_monitor_sessions_leg", "supervisor_call_sid"),
)

__all__ = ["CALL_CONTROL_STATES", "NUMBER_LISTS", "PRESENCE_STATUSES", "ROLES", "UTCDateTime",
           "audit_log", "campaign_attempts", "campaign_contacts", "campaigns",
           "console_permissions", "console_settings",
           "agent_caller_ids", "agent_crm_users", "agent_group_members", "agent_groups",
           "agent_presence", "agents", "auth_sessions", "call_controls", "call_events",
           "call_flows", "calls", "flow_audio", "flow_overrides",
           "crm_sync_state", "crm_writebacks", "customer_call_logs", "customer_phones",
           "customer_tags", "customers", "do_not_call", "func", "http_template_sent", "metadata",
           "monitor_sessions", "number_choices", "number_list_rules", "phone_index",
           "phone_numbers", "sms_links", "sms_messages", "sms_templates", "stop_statuses",
           "utcnow", "voice_versions", "voicemails"]
