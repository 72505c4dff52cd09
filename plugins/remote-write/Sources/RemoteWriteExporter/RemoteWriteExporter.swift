// Placeholder until the remote-write plugin lands.
