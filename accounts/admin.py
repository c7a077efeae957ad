from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from .models import User


class NoraUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class NoraUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = NoraUserChangeForm
    add_form = NoraUserCreationForm
    ordering = ["-created_at"]
    list_display = ["email", "name", "due_date", "is_staff", "is_active", "created_at"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    readonly_fields = ["id", "created_at", "last_login"]
    fieldsets = [
        (None, {"fields": ["id", "email", "password"]}),
        ("Profile", {"fields": ["name", "due_date", "default_personality", "country", "language"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
