// Placeholder until the otlp plugin lands.
