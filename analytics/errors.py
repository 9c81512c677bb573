"""The problems a user can act on: one base class, so every page shows them the same way.

A `UserError`'s text is written for the person at the screen: what went wrong and what to
do. Anything else that escapes is a bug and is shown as such.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix or work around; str() is the message to show."""
