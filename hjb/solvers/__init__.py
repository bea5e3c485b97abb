"""One module per PDE, each opening with its named step, and the shared time loop ``march``:
eps_hjb, effective (and egd), viscous (and Godunov Hopf-Lax), hopf_lax (exact envelope),
cell (the truncated cell problem, on ``ball_solve``), invariant (the discrete invariant measure)."""
