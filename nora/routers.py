from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Answers every route with or without a trailing slash, without redirecting.

    A 301 from `/chats` to `/chats/` turns many clients' POST and PATCH into GET.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
