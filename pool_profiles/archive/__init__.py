"""Zip export/import in the plan's layout: `profile_meta.json` ({"name": ...}) plus
`pool/manifest.json` and the pool's blobs directly under `pool/`, so zips move both
ways between this pack and the earlier local-only one.

Export streams: blobs are read in chunks from the store and the zip is produced as
chunks (zipfile on a non-seekable sink writes data descriptors), so memory stays
bounded whatever the pool size. Import validates every member before it writes
anything, writes under a fresh id, and deletes all it wrote if any step fails."""

from .export import export_to_file, export_to_path, iter_export
from .importer import import_zip
from .layout import (
    CHUNK,
    META_NAME,
    POOL_DIR,
    ImportLimits,
    Progress,
    iter_file,
    prune_manifest,
    referenced_blobs,
)

__all__ = [
    "CHUNK",
    "META_NAME",
    "POOL_DIR",
    "ImportLimits",
    "Progress",
    "export_to_file",
    "export_to_path",
    "import_zip",
    "iter_export",
    "iter_file",
    "prune_manifest",
    "referenced_blobs",
]
