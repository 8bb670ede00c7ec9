"""Service reports: per-department figures over a date range (``civic-bridge report`` and the desk's Reports page)."""
