from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator


class BrowserOriginValidator(OriginValidator):
    """Channels' origin check, except that a handshake without an Origin header is let through.

    Only browsers send Origin, and only browsers can be tricked into opening a socket for
    another site; native apps and server-side clients send none and authenticate with a token.
    """

    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is None or self.validate_origin(parsed_origin)


def AllowedHostsBrowserOriginValidator(application):  # noqa: N802  (mirrors Channels' factory)
    return BrowserOriginValidator(application, AllowedHostsOriginValidator(application).allowed_origins)
