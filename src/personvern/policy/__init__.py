"""Policy as code: the privacy policy file, its typed model and its validation.

Everything here is pure Python (no database). Renderers (``render``), the record
of processing (``ropa``) and the views use Django templates and translations.
"""

from .duration import Duration, DurationError
from .loader import (
    PolicyError,
    Problem,
    active_policy,
    configured_policy_path,
    default_policy_path,
    load_policy,
    parse_policy,
)
from .models import (
    Activity,
    Category,
    Cookie,
    Policy,
    Principal,
    Processor,
    Purpose,
    Recipient,
    RetentionRule,
    Text,
)
from .vocab import ANCHORS, COHORTS, EU_EEA

__all__ = [
    "ANCHORS",
    "COHORTS",
    "EU_EEA",
    "Activity",
    "Category",
    "Cookie",
    "Duration",
    "DurationError",
    "Policy",
    "PolicyError",
    "Principal",
    "Problem",
    "Processor",
    "Purpose",
    "Recipient",
    "RetentionRule",
    "Text",
    "active_policy",
    "configured_policy_path",
    "default_policy_path",
    "load_policy",
    "parse_policy",
]
