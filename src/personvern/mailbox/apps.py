from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

#: How the mailbox words the holds it places (``mail_message_keep``): a code follows.
KEPT_PREFIX = "E-mail kept: "
#: The hold on a correspondent (on the person's row) and on each message it keeps,
#: those recorded later included (``mail_correspondents_keep``): a code follows.
CORRESPONDENT_PREFIX = "E-mail of correspondent kept: "


def _kept_label(code: str) -> str:
    from personvern.mailbox.models import KeepReason

    reason = KeepReason(code).label if code in KeepReason.values else code
    return gettext("E-mail kept: %(reason)s") % {"reason": reason}


def _correspondent_label(code: str) -> str:
    from personvern.mailbox.models import KeepReason

    reason = KeepReason(code).label if code in KeepReason.values else code
    return gettext("All e-mail of the correspondent kept: %(reason)s") % {"reason": reason}


class MailboxConfig(AppConfig):
    name = "personvern.mailbox"
    label = "mailbox"
    verbose_name = _("E-mail correspondence")

    def ready(self) -> None:
        from personvern.core.hold_reasons import register

        register(KEPT_PREFIX, _kept_label)
        register(CORRESPONDENT_PREFIX, _correspondent_label)
