"""One module per kind of run: its [solve] schema, checks, runner, picture and headline (``SPECS``)."""
