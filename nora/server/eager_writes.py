"""Daphne's responses sent when they are written, not on the event loop's next pass.

Twisted's TCP transport buffers every write and asks the reactor to say when the socket
can take it. Under the asyncio reactor that is, for every chunk of a stream, an
`add_writer`, a pass of the loop, the send, and a `remove_writer`. When nothing is waiting
in the buffer the socket almost always takes the bytes at once, so they are sent there.
What it does not take, and everything written after it until the buffer drains, goes
Twisted's way, in order. Only TCP: daphne's Unix-socket listener (`-u`) keeps Twisted's writes.
"""

from collections.abc import Iterable

from twisted.internet import tcp


class EagerWriteServer(tcp.Server):
    """An accepted TCP connection that sends what it is given at once when nothing waits before it."""

    def write(self, data: bytes) -> None:
        super().write(self._unsent(data))

    def writeSequence(self, iovec: Iterable[bytes]) -> None:
        self.write(b"".join(iovec))

    def _nothing_waiting(self) -> bool:
        return bool(
            self.connected
            and not self.disconnecting
            and not self._writeDisconnected
            and not self.TLS
            and not self._tempDataBuffer
            and self.offset == len(self.dataBuffer)
        )

    def _unsent(self, data: bytes) -> bytes:
        """What of `data` is left for Twisted to send: all of it while earlier bytes wait."""
        if not data or not self._nothing_waiting():
            return data
        sent = self.writeSomeData(data)
        # A lost connection is returned, not raised: Twisted's own write path reports it.
        return data[sent:] if isinstance(sent, int) else data


def eager_writes_install() -> None:
    """Make every TCP connection Twisted accepts from now on an `EagerWriteServer`.

    `Port.transport` is the class Twisted builds accepted connections from; daphne listens
    through the reactor's `listenTCP`, which offers no other way to choose it.
    """
    tcp.Port.transport = EagerWriteServer
