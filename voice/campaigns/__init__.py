"""Outbound campaigns (SPEC CA-1), the pure decisions: settings, the calling window, what to
do after each attempt, which contact comes next, how many calls to place, and call lists
from CSV. No Flask, no database: :mod:`connector.campaigns` stores and runs them.
"""
