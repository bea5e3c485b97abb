"""The stochastic side: Euler-Maruyama paths of the two-scale system and entropic gradient
descent (``two_scale``), the optimal feedback read off an eps-HJB value (``feedback``), and
SGD paths with their exit iterations and the bridge-corrected diffusion exit times (``sgd``)."""
