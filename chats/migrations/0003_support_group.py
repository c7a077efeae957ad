"""The Support group: staff who read conversations and their messages in the admin, and change nothing."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Support"
# A snapshot as of this migration; accounts.services.SUPPORT_PERMISSIONS is the live list.
PERMISSIONS = [("chats", "view_conversation"), ("chats", "view_message")]


def support_group_create(apps, schema_editor):
    # Permissions are normally made after all migrations (post_migrate); make them now.
    for label in {app_label for app_label, _ in PERMISSIONS}:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    alias = schema_editor.connection.alias
    group, _ = apps.get_model("auth", "Group").objects.using(alias).get_or_create(name=GROUP)
    permissions = apps.get_model("auth", "Permission").objects.using(alias)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(permissions.get(content_type__app_label=app_label, codename=codename))


def support_group_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("chats", "0002_conversationaccess"),
    ]

    operations = [migrations.RunPython(support_group_create, support_group_delete)]
