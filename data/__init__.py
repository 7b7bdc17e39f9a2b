"""Labeled data: the technique inventory, sentence records, the PTC importer, splits.

    from data import load_specs, technique_ids
    records = load_specs(["corpus", "ptc:path/to/ptc-2020-train"])

Names are imported on first use, so `import data` stays light.
"""

from data.lazy import lazy_exports

EXPORTS = {
    "technique_ids": "data.techniques",
    "load_techniques": "data.techniques",
    "load_specs": "data.sources",
    "import_ptc": "data.ptc",
    "read_records": "data.records",
    "write_records": "data.records",
    "split_records": "data.splits",
}
__all__ = list(EXPORTS)
__getattr__ = lazy_exports(__name__, EXPORTS)
