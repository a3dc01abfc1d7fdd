"""Zip export/import in the plan's layout: `profile_meta.json` ({"name": ...}) plus
`pool/manifest.json` and the pool's blobs directly under `pool/`, so zips move both
ways between this pack and the earlier local-only one.

Export streams: blobs are read in chunks from the store and the zip is produced as
chunks (zipfile on a non-seekable sink writes data descriptors), so memory stays
bounded whatever the pool size. Import validates every member before it writes
anything, writes under a fresh id, and deletes all it wrote if any step fails.

Datasets (dataset*.py): the image + caption + mask folder layout LoRA trainers read,
exported as a folder or zip and imported from either; detect.import_any tells a
dataset from a profile zip."""

from .dataset import EXPORT_FORMATS, DatasetExport, DatasetImport, Skipped
from .dataset_export import (
    export_dataset,
    export_dataset_folder,
    iter_dataset_zip,
    iter_profile_dataset_zip,
)
from .dataset_import import import_dataset_folder, import_dataset_zip
from .detect import import_any, zip_format
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
    "EXPORT_FORMATS",
    "DatasetExport",
    "DatasetImport",
    "Skipped",
    "export_dataset",
    "export_dataset_folder",
    "import_any",
    "import_dataset_folder",
    "import_dataset_zip",
    "iter_dataset_zip",
    "iter_profile_dataset_zip",
    "zip_format",
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
