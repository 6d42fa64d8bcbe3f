"""The explore page: an interactive, self-contained HTML page of a two-parameter game.

:func:`gandyn.explore.page.explore_page` derives every loss and regularizer
combination the page offers (:mod:`gandyn.explore.variants`), prints the field,
Jacobian and logged losses as JavaScript (:mod:`gandyn.explore.jscode`) and
inlines them with the page's program (``static/app.js``), which implements the
update rules of :mod:`gandyn.rules` formula for formula.
"""
