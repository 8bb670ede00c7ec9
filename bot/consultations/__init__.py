"""Consultations and announcements: departments ask and tell, citizens who opted in answer (issue #18)."""
