import factory

from accounts.models import User
from chats.models import Conversation, Message

TEST_PASSWORD = "a-long-test-passphrase-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"parent{n}@example.com")
    name = factory.Faker("first_name")
    password = factory.django.Password(TEST_PASSWORD)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Conversation {n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    sender = Message.Sender.USER
    message = factory.Faker("sentence")
