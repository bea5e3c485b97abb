"""The effective Hamiltonian H-bar(x, p), three independent ways (SPEC section 3).

``methods`` holds :func:`effective_hamiltonian` and the explicit registry of
its methods (quadrature against the Gibbs density, the truncated cell problem,
the discrete invariant measure); ``velocities`` the averaged velocities of the
extended controls that the effective solver tabulates.
"""
