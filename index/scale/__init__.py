"""Past one machine: the index in shards, served in one process or by replicas on a Ray cluster."""
