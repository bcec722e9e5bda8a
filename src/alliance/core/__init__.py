"""Pure science: instruments, scoring, psychometrics, signals, analysis, simulator.

Nothing here imports Django or the command line; the web application and the
`alliance` command both call into this package for every number they show.
"""
