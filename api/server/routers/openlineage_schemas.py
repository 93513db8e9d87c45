"""``GET /openlineage/facets/<file>``: lineagelog's OpenLineage facet schemas, from the package.

So that the ``_schemaURL`` of an exported ``lineagelog_cache`` or
``lineagelog_artifact`` facet can be fetched: export or send with
``--schema-base http://HOST:PORT/openlineage/facets`` (or set
``LINEAGELOG_OPENLINEAGE_SCHEMA_BASE`` for live emission). Schemas are public
(no token): they describe the format, not any data.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from lineagelog.adapters.openlineage.schemas import custom_facet_files, custom_facet_schema

__all__ = ["FACETS_PATH", "router"]

FACETS_PATH = "/openlineage/facets/"

router = APIRouter()


@router.get(FACETS_PATH + "{file_name}", tags=["openlineage"])
def facet_schema(file_name: str) -> JSONResponse:
    """The JSON Schema of one of lineagelog's facets (``LineagelogCacheRunFacet.json``...)."""
    schema = custom_facet_schema(file_name)
    if schema is None:
        return JSONResponse(
            {
                "message": f"no facet schema {file_name!r}; lineagelog's facet schemas are "
                f"{', '.join(custom_facet_files())}"
            },
            status_code=404,
        )
    return JSONResponse(schema, media_type="application/schema+json")
