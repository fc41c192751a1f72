"""Stage 4, store: the on-disk layout, generations, the archive, and the build and update that write them."""
