"""Django app config: the policy app holds its templates and translations, no models."""

from django.apps import AppConfig


class PolicyConfig(AppConfig):
    """The privacy policy (notice, cookie policy, record of processing)."""

    name = "personvern.policy"
    label = "policy"
    verbose_name = "Privacy policy"
