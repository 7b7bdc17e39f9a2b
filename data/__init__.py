"""Data layer: technique inventory, sentence records, PTC import, splits and datasets."""
