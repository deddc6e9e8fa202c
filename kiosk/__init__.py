"""The kiosk core: configuration, loyalty rules, the ledger and the service."""
