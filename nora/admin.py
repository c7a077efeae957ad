"""The admin as support staff see it: Nora's, not Django's."""

from django.contrib import admin


class NoraAdminSite(admin.AdminSite):
    site_header = "Nora support"
    site_title = "Nora support"
    index_title = "Conversations and accounts"
    # Support staff work in two lists; the sidebar would take a fifth of a 1280-pixel screen from them.
    enable_nav_sidebar = False
