// Placeholder until the firehose plugin lands.
