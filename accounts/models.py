import uuid

import pycountry
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models

from nora.personalities import DEFAULT_PERSONALITY, PERSONALITY_CHOICES

# ISO 3166-1 alpha-2: the country whose emergency number and crisis line a notice names.
COUNTRY_CHOICES = sorted((country.alpha_2, country.name) for country in pycountry.countries)
# ISO 639-1: the languages Nora's safety notice is written in.
LANGUAGE_CHOICES = [
    ("en", "English"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("pt", "Portuguese"),
    ("pl", "Polish"),
    ("ar", "Arabic"),
    ("zh", "Chinese"),
]


def country_code_validate(value: str) -> None:
    # A validator, not `choices`: ISO's list changes, and a migration for each change would carry all of it.
    if value not in dict(COUNTRY_CHOICES):
        raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    due_date = models.DateField(null=True, blank=True)
    default_personality = models.CharField(
        max_length=32,
        default=DEFAULT_PERSONALITY,
        choices=PERSONALITY_CHOICES,
    )
    # Null, never "": not said, as the API shows it. The notice then uses the message's language
    # and the deployment's numbers.
    country = models.CharField(max_length=2, validators=[country_code_validate], null=True, blank=True)  # noqa: DJ001
    language = models.CharField(max_length=2, choices=LANGUAGE_CHOICES, null=True, blank=True)  # noqa: DJ001
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email
