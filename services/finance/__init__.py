"""Finance: tenants apply for subsidies, loans, funds, leasing and IP-pledge financing."""
