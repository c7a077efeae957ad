import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from tests.sockets import socket_communicator

pytestmark = pytest.mark.django_db(transaction=True)


async def ticket_for(api) -> str:
    response = await sync_to_async(api.post)("/auth/ws-ticket")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["expires_in"] == 60
    return data["ticket"]


def test_ticket_needs_a_token(anon):
    assert anon.post("/auth/ws-ticket").status_code == 401


async def open_socket(query: str) -> tuple[WebsocketCommunicator, dict]:
    communicator = socket_communicator(query=query)
    await communicator.connect()
    return communicator, await communicator.receive_json_from(timeout=5)


async def test_a_ticket_opens_the_socket_once(api, user):
    ticket = await ticket_for(api)
    communicator, first = await open_socket(f"ticket={ticket}")
    assert first["message"] == "Connected"
    await communicator.disconnect()
    communicator, second = await open_socket(f"ticket={ticket}")
    assert second["type"] == "error"
    assert (await communicator.receive_output(timeout=2))["code"] == 4001


async def test_an_expired_ticket_is_refused(api, settings):
    settings.NORA_WS_TICKET_SECONDS = 1
    ticket = (await sync_to_async(api.post)("/auth/ws-ticket")).json()["data"]["ticket"]
    await asyncio.sleep(1.2)
    communicator, message = await open_socket(f"ticket={ticket}")
    assert message["type"] == "error"


async def test_a_made_up_ticket_is_refused():
    communicator, message = await open_socket("ticket=made-up")
    assert message["type"] == "error"
    assert (await communicator.receive_output(timeout=2))["code"] == 4001
