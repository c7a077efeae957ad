from django.urls import re_path

from .consumers import VoiceConsumer

websocket_urlpatterns = [
    re_path(r"^chats/ws/voice/(?P<chat_session_id>[^/]+)/?$", VoiceConsumer.as_asgi()),
]
