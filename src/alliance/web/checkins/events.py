"""Events other areas can listen to (extension points).

`administration_submitted` is sent after the transaction that stored a form's answers has
committed, with `administration=` the stored Administration. Signal recomputation and the
audit trail connect here.

`forms_stored` is sent inside that transaction, once per submission, with `administrations=`
the forms just stored (session, case, client and clinic loaded), whichever way they came
(a check-in link, in the room, the therapist's form, the API). What a receiver stores is
stored with the answers, or not at all. The safety check connects here
(`alliance.web.safety.receivers`): a risk answer reaches a person at once.
"""

from django.dispatch import Signal

administration_submitted = Signal()
forms_stored = Signal()
