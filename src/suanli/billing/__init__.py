"""Billing: buyers' invoices, providers' statements and payouts, and how they print.

* :mod:`.periods`: billing periods (calendar months in China time, or explicit ranges).
* :mod:`.invoices`: issue and read invoices (stored, once per buyer and period).
* :mod:`.statements`: a provider's statement for a period (computed from the ledger).
* :mod:`.payouts`: providers' earnings paid out to a bank account.
* :mod:`.render`: invoices and statements as CSV and as printable HTML.
"""
