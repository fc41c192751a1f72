"""Stage 4, store: the files of a generation, the archive, and the build and update writing them."""
