"""Passwords, tokens, sessions and login throttling."""
