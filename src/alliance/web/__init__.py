"""The Django web application: clinics, caseloads, session check-ins and signals.

It calls `alliance.core` for every score and signal it shows; nothing here
re-implements a formula.
"""
