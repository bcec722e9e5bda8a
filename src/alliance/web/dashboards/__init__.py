"""Dashboards: what the caseload and the case page show, and the charts that show it.

- `series`: a case's scores session by session, read from stored administrations (the
  scores themselves were computed by `alliance.core.scoring` when the forms came in);
- `attention`: the order of the caseload, from each case's unresolved signals;
- `caseload` and `casepage`: the data of the two pages, in a bounded number of queries;
- `charts`: charts drawn server-side by matplotlib as SVG;
- `expected`: the clinic's expected-response model, for the wellbeing band.

Trends (rising, steady, falling) come from `alliance.core.trends`; every other number
from the stored core scores and signals. Queries go through `alliance.web.scoping`.
"""
