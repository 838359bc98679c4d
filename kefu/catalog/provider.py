"""The process-wide catalog service, built on first use (the schema is migrated at start-up)."""

from __future__ import annotations

import threading

from kefu.catalog.service import CatalogService

_service: CatalogService | None = None
_lock = threading.Lock()


def get_catalog_service() -> CatalogService:
    """The action server's :class:`CatalogService` over the database's catalog tables."""
    global _service
    with _lock:
        if _service is None:
            from kefu.db.products import ProductRepository

            _service = CatalogService(ProductRepository())
        return _service
