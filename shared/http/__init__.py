"""HTTP kernel of every service: problem+json, request ids, tokens, pagination, preconditions."""
