"""A believable demo organization, loaded through the import service (README "Import files").

Deterministic: every GUID is ``uuid5`` of a fixed namespace and a readable name, every
timestamp is fixed, so the payload is the same on every run. ``demo_setup()`` only
creates what is missing: setup records already at HQ are left out of the import (an
upsert would undo what HQ changed since, e.g. move a converted customer's primary
address back without a new version), and channel ids already present are skipped by
the import. A second run changes nothing.

Contoso Retail USA (USRT) runs three stores: Houston and Seattle create customers in
async mode, Houston Galleria calls HQ in real time (a few of its customers were
created async while it was offline). Fabrikam Handel (DEMF, EUR) has HQ customers
only, to show a second legal entity in the customer master. Three async customers
break a business rule on purpose, so the conversion shows failed records at HQ, and
three look like existing customers (R12: the same email, the same phone in another
format, the same name and zip in other letter case), so USRT, whose duplicate policy
is "create", creates them and lists them under "Possible duplicates".

One module per part: organization (GUIDs, HQ setup, HQ customers, stores),
async_records (what the stores created in async mode), transactions (their sales),
payload (all of it in the import format) and loading (``demo_setup``, the admin user).
"""
