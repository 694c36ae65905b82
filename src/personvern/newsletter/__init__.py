"""Newsletter: subscriptions, mailings and how subscribers interact with them (R16–R18)."""
