"""Everything needed at prediction time: segmentation, the predictor, writers."""
