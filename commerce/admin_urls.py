"""The extra pages of an admin class (README "Admin"): each mixin that adds a page lists
its URLs with ``admin_view_paths`` ahead of the ones ``super().get_urls()`` gives."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import URLPattern, path


def admin_view_paths(model_admin, *pages: tuple[str, Callable, str]) -> list[URLPattern]:
    """One ``path`` for each (route, view, URL name), the view wrapped in the admin site's
    ``admin_view`` (signed-in staff only, never cached)."""
    view = model_admin.admin_site.admin_view
    return [path(route, view(page_view), name=name) for route, page_view, name in pages]
