"""Mon compte and Mes enfants: the family's and children's records."""
