from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailboxConfig(AppConfig):
    name = "personvern.mailbox"
    label = "mailbox"
    verbose_name = _("E-mail correspondence")
