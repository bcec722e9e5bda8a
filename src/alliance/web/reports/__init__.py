"""PDF reports: a case report (for the record, or for sharing with the client) and a
clinic report for administrators and supervisors. See docs/reports.md."""
