"""Monotone building blocks, each a sparse operator with its stated property: the reflecting
generator (``generator``: a Markov generator, rates as a registry), the semi-Lagrangian
transport (``transport``: non-negative weights summing to one), the cut-cell operator on a
ball (``ball``: an M-matrix) and its multigrid (``multigrid``), Gibbs quadrature
(``quadrature``) and read-out derivatives of values (``differences``)."""
