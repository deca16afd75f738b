"""The `f1` command-line program and the `make up` launcher."""
