"""Boîte de réception: two-way messages between families and the municipality."""
