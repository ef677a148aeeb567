"""Local fake servers that play external services (CRMs, Twilio) by their documented APIs."""
