"""The one source of "now" for the case services (tests move it to walk a case through time)."""

from django.utils import timezone


def now():
    return timezone.now()


def today():
    return timezone.localdate(now())
