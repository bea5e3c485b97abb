"""From a case file to a result: ``case`` (TOML, overrides), ``schema`` and ``validate``,
``registry`` (the explicit list of kinds, one module each under ``kinds``), ``sweep``
(members), ``run`` (the runner), ``dask``, ``environment`` (limits) and ``show``."""
