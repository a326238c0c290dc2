"""A consultant's review of an application, from the evidence in its record.

``reverify`` verifies the presented credentials again, as of the moment they
were presented and as of now. ``recompute`` evaluates the pinned rules again
and compares the outcome with the voucher. ``ruletable`` shows the decision
table the outcome came from, and ``evidence`` exports everything to one JSON
file that ``python -m stappen.review verify FILE`` checks without a database.
Nothing here is a Flask view; the pages are in stappen.consultant.
"""
