// Placeholder until the postgres plugin lands.
