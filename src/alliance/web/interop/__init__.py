"""Data exchange with other systems: FHIR R4 resources, history imports, research exports."""
