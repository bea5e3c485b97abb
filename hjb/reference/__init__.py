"""Exact and semi-analytic answers (SPEC section 9), shared by tests, scripts and notebooks:
closed forms for the quadratic loss (``quadratic``), the reachable-interval value in
d = 1 (``reachable``), the region where V^eps - v is measured (``regions``), and the velocity
table of the extended controls one direction at a time (``velocities``)."""
