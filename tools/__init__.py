"""Developer tools run from the repository root as ``python -m tools.<name>``.

Not part of the web app or of the engine's runtime: the engine's contact and try-on sheets
(``docs/engine-*.png``) and the garment product photos the sheets, the benchmark and the tests
dress avatars in.
"""
