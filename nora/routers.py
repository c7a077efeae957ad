from rest_framework.routers import SimpleRouter

# A canonical UUID: anything else in an id position is a 404, never a 400 or a 500.
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class OptionalSlashRouter(SimpleRouter):
    """Answers every route with or without a trailing slash, without redirecting.

    A 301 from `/chats` to `/chats/` turns many clients' POST and PATCH into GET.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
