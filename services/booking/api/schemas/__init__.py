"""Request and response schemas of the booking API (they are its OpenAPI document).

Times: RFC 3339 with an offset in, park time (+08:00) out. Money: ``{"amount": "300.00",
"currency": "CNY"}``. Opening hours: per weekday, in park time.
"""
