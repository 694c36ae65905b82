"""Demo data for courses: consistent with the model's rules."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q

from personvern.core.models import Person
from personvern.core.services import person_create
from personvern.courses import demo
from personvern.courses.models import Course, Registration


def test_demo_generate_respects_capacity(db):
    for n in range(40):
        person_create(email=f"demo{n}@example.no", actor="test")
    now = datetime(2025, 1, 1, 12, tzinfo=ZoneInfo("Europe/Oslo"))
    demo.generate(Person.objects.all(), random.Random(7), now, courses=6)

    assert Course.objects.count() == 6
    assert Registration.objects.count() >= 40
    overfull = Course.objects.annotate(
        taken=Count("registrations", filter=Q(registrations__status="confirmed"))
    ).filter(taken__gt=F("capacity"))
    assert not overfull.exists()
    assert not Registration.objects.filter(
        course__kind="digital").exclude(dietary_needs="").exists()
    assert not Registration.objects.filter(
        course__hotel_stay_offered=False, overnight_stay=True).exists()
    assert not Registration.objects.filter(
        attended__isnull=False, course__ends_at__gt=now - timedelta(0)).exists()
