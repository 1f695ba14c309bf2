"""AI detections from camera analytics: validation, storage shape, and who may see them."""
