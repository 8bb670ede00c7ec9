"""Routing: from a citizen's first message to a department, with a confidence and a reason."""
