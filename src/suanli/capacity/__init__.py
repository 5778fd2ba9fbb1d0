"""Centers and node pools: the supply side of the exchange."""
