"""Parts, locations and the stock ledger; later vendor orders, part requests, loaners, RMAs."""
