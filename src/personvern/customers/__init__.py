"""Former and current customers, partners and suppliers, with bookkeeping records (R22)."""
