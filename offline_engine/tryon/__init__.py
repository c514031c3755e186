"""The tryon-v1.6 model: a garment's product photo fitted to the person in a model image."""
