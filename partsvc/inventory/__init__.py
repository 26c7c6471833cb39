"""Parts, locations and the stock ledger: the tier every other domain moves stock through."""
