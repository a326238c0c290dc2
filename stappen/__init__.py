"""Stappen: step flows written in YAML become multi-step citizen portals."""
