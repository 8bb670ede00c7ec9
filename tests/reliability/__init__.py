"""Reliability: real processes, crashes, several processes on PostgreSQL."""
