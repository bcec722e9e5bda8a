"""Events other areas can listen to (extension points).

`administration_submitted` is sent after the transaction that stored a form's answers has
committed, with `administration=` the stored Administration. Signal recomputation and the
audit trail connect here.
"""

from django.dispatch import Signal

administration_submitted = Signal()
