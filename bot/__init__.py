"""The Polymarket bot: market clients, mapping, strategy, risk, brokers and the cycle."""
