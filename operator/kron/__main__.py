"""`python -m kron ...` is the `kron` command."""

from kron.cli import main

raise SystemExit(main())
