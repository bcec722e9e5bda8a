"""Events other areas can listen to (extension points).

`signals_found` is sent after the transaction that stored new signals has committed, with
`signals=` the list of new Signal rows (notices to the therapist connect here).
"""

from django.dispatch import Signal

signals_found = Signal()
