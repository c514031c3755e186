"""The face-to-model avatar: the selfie's analysis, the real head, a drawn body, light, grain."""
