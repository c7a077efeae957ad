"""Daphne's TCP connections send what they are given at once, and in order when the socket is full."""

import socket

import pytest
from twisted.internet import tcp
from twisted.internet.error import ConnectionLost
from twisted.internet.protocol import Protocol

from nora.server.eager_writes import EagerWriteServer


class RecordingReactor:
    """Just enough of a reactor to see whether a connection asked to be told when it can write."""

    def __init__(self):
        self.writers = set()

    def addReader(self, reader):
        pass

    def removeReader(self, reader):
        pass

    def addWriter(self, writer):
        self.writers.add(writer)

    def removeWriter(self, writer):
        self.writers.discard(writer)


@pytest.fixture
def connection():
    """An `EagerWriteServer` on one end of a socket pair, and the client's end."""
    server_end, client_end = socket.socketpair()
    client_end.setblocking(False)
    reactor = RecordingReactor()
    protocol = Protocol()
    transport = EagerWriteServer(server_end, protocol, ("127.0.0.1", 50000), None, 0, reactor)
    protocol.makeConnection(transport)
    yield transport, client_end, reactor
    server_end.close()
    client_end.close()


def received(client_end) -> bytes:
    chunks = []
    while True:
        try:
            chunk = client_end.recv(1 << 20)
        except BlockingIOError:
            return b"".join(chunks)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def test_a_chunk_written_to_an_idle_connection_is_sent_at_once(connection):
    transport, client_end, reactor = connection

    transport.writeSequence([b"1f\r\n", b'data: {"type": "chunk"}\n\n', b"\r\n"])
    transport.write(b"0\r\n\r\n")

    assert received(client_end) == b'1f\r\ndata: {"type": "chunk"}\n\n\r\n0\r\n\r\n'
    assert reactor.writers == set()


def test_what_the_socket_does_not_take_is_sent_later_with_what_follows_in_order(connection):
    transport, client_end, reactor = connection
    transport.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    body = bytes(range(256)) * 4096

    transport.write(body)
    delivered = received(client_end)
    # The socket has room again, but the rest of the body is still waiting in Twisted's buffer.
    transport.writeSequence([b"after", b" the body"])
    transport.write(b", last")

    assert reactor.writers == {transport}
    assert len(delivered) < len(body)
    while transport in reactor.writers:
        transport.doWrite()
        delivered += received(client_end)
    assert delivered == body + b"after the body, last"


def test_a_write_to_a_lost_connection_is_left_to_twisted_to_report(connection):
    transport, client_end, reactor = connection
    transport.socket.shutdown(socket.SHUT_WR)

    transport.write(b"data: lost\n\n")

    assert reactor.writers == {transport}
    assert isinstance(transport.doWrite(), ConnectionLost)


def test_twisted_still_has_the_write_path_eager_writes_relies_on():
    """The private attributes `EagerWriteServer` reads, and the class daphne's port builds connections from."""
    assert tcp.Port.transport is tcp.Server
    server_end, client_end = socket.socketpair()
    try:
        server = tcp.Server(server_end, Protocol(), ("127.0.0.1", 50000), None, 0, RecordingReactor())
        read = ("_tempDataBuffer", "dataBuffer", "offset", "_writeDisconnected", "TLS", "connected", "disconnecting")
        for name in read:
            assert hasattr(server, name), name
        assert callable(server.writeSomeData)
    finally:
        server_end.close()
        client_end.close()
