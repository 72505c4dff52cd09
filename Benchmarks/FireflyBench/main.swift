// firefly-bench: the `make bench` driver (being written).
print("firefly-bench")
