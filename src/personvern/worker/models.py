"""What the worker keeps: the record of each job run, and mail waiting to be sent."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from personvern.core.fields import personal
from personvern.worker.labels import job_label, mail_kind_label


class JobRunState(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class JobRun(models.Model):
    """One run of a periodic job, for one slot of its schedule (or started by hand).

    ``(job, slot)`` is unique: whichever worker inserts the row first runs the
    slot; the others see the row and leave it. Counts and errors hold no
    personal data (jobs return figures; an error is the exception's type and
    a message written by our code).
    """

    job = models.CharField(_("job"), max_length=100)
    slot = models.DateTimeField(_("slot"))
    manual = models.BooleanField(_("started by hand"), default=False)
    state = models.CharField(
        _("state"), max_length=10, choices=JobRunState.choices, default=JobRunState.QUEUED
    )
    queued_at = models.DateTimeField(_("queued"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=100, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-slot", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="worker_jobrun_one_per_slot")
        ]
        indexes = [models.Index(fields=["job", "-slot"], name="worker_jobrun_latest")]

    def __str__(self) -> str:
        return f"{job_label(self.job)} @ {self.slot:%Y-%m-%d %H:%M}"


class WorkerProcess(models.Model):
    """A running ``personvern worker``; its heartbeat says it is alive.

    A task or job claimed by a worker whose heartbeat has stopped (killed,
    machine lost) is handed to another worker (see ``runner.recover``).
    """

    worker_id = models.CharField(_("worker"), max_length=100, unique=True)
    hostname = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started"))
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("worker process")
        verbose_name_plural = _("worker processes")

    def __str__(self) -> str:
        return self.worker_id


class MailState(models.TextChoices):
    QUEUED = "queued", _("waiting to be sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("refused permanently")


class OutgoingMail(models.Model):
    """A message queued in the transaction of the change that causes it.

    The worker sends it (``outbox.deliver``), retrying temporary refusals with
    backoff. Once sent, the message and its recipients are cleared: what stays
    is that a message of this kind went out, and when. A permanently refused
    message keeps its recipients and the server's answer for staff to act on,
    until the clean-up job removes it.
    """

    kind = models.CharField(_("kind"), max_length=60)
    person = models.ForeignKey(
        "core.Person", null=True, blank=True, on_delete=models.CASCADE,
        related_name="+", verbose_name=_("person"),
    )
    recipients = personal(models.TextField(_("recipients"), blank=True))
    subject = personal(models.CharField(_("subject"), max_length=998, blank=True))
    message = personal(models.BinaryField(_("message"), null=True, blank=True))
    #: A message written when it is sent (``outbox.queue_built``): the name of its
    #: builder and the builder's arguments (row ids, never personal data). Empty
    #: for a message stored whole when queued.
    builder = models.CharField(_("written by"), max_length=100, blank=True)
    builder_args = models.JSONField(_("written from"), default=dict, blank=True)
    attachment_count = models.PositiveSmallIntegerField(_("attachments"), default=0)
    state = models.CharField(
        _("state"), max_length=10, choices=MailState.choices, default=MailState.QUEUED
    )
    queued_at = models.DateTimeField(_("queued"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    failed_at = models.DateTimeField(_("refused"), null=True, blank=True)
    last_error = personal(models.TextField(_("last error"), blank=True))

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mail")
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="worker_mail_due"),
        ]

    def __str__(self) -> str:
        return f"{mail_kind_label(self.kind)} #{self.pk}"
