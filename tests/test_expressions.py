"""ValueByPrimaryKey: one UPDATE that gives each row a value of its own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chats.models import Message
from nora.expressions import ValueByPrimaryKey
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_the_value_for_its_own_key():
    first, second, untouched = MessageFactory.create_batch(3, message="before")
    values = {first.id: "first's", second.id: "second's"}

    with CaptureQueriesContext(connection) as queries:
        Message.objects.filter(id__in=values).update(
            message=ValueByPrimaryKey(values, output_field=Message._meta.get_field("message"))
        )

    assert len(queries) == 1
    saved = dict(Message.objects.values_list("id", "message"))
    assert saved == {first.id: "first's", second.id: "second's", untouched.id: "before"}


def test_values_are_prepared_for_the_database_by_the_output_field():
    message = MessageFactory(categories=[])
    values = {message.id: ["sleep", "feeding"]}

    Message.objects.filter(id__in=values).update(
        categories=ValueByPrimaryKey(values, output_field=Message._meta.get_field("categories"))
    )

    message.refresh_from_db()
    assert message.categories == ["sleep", "feeding"]


def test_no_values_update_nothing():
    message = MessageFactory(message="before")

    with CaptureQueriesContext(connection) as queries:
        updated = Message.objects.filter(id__in={}).update(
            message=ValueByPrimaryKey({}, output_field=Message._meta.get_field("message"))
        )

    assert (updated, len(queries)) == (0, 0)
    message.refresh_from_db()
    assert message.message == "before"
