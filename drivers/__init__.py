"""Card readers and shop-floor hardware: bytes and pins in, events out.

Nothing in this package knows about loyalty. Readers turn a transport's bytes
into :class:`~drivers.events.CardRead` and :class:`~drivers.events.ReaderStatus`
events and put them on one queue that the kiosk core consumes.
"""
