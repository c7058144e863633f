"""Automation definitions: Event Types, Actions, the Automations linking them, and the service.

    from hub.automations import AutomationService
    service = AutomationService(sessions, clock=utc_now)
    service.create_action("acme", name="notify", sink="http", parameters=[...], actor="alice")
"""

from hub.automations.models import (
    ActionInfo,
    AutomationInfo,
    DeliveryPlan,
    EventTypeInfo,
    Match,
    Saved,
)
from hub.automations.service import AutomationService

__all__ = [
    "ActionInfo",
    "AutomationInfo",
    "AutomationService",
    "DeliveryPlan",
    "EventTypeInfo",
    "Match",
    "Saved",
]
