"""Agenda: daily reservations and absences with reasons."""
