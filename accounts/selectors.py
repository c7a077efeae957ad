from .models import User


def user_email_taken(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()
