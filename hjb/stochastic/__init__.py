"""The stochastic side: Euler-Maruyama paths of the two-scale system and entropic gradient
descent (``two_scale``), and the optimal feedback read off an eps-HJB value (``feedback``)."""
