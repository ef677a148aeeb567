"""The built-in CRM (SPEC CR-1): customer pages, their JSON API, CSV import and demo data.

The adapter that the CRM layer uses to look customers up and write call logs is
``crm_adapters.builtin``; this package is what people use to edit the customers.
"""
