"""What results become: ``result`` (the Result), ``hdf5`` (self-describing files, written
atomically through ``atomic``), ``plots`` and ``figures`` (pictures), ``summary`` (what
``hjb show`` prints) and ``tables`` (convergence tables in Markdown, LaTeX and CSV)."""
