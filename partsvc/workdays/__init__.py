"""The deployment's working-time calendar as an admin keeps it: extra closures and working days."""
