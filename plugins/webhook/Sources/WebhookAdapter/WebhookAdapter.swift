// Placeholder until the webhook plugin lands.
