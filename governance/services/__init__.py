"""Every state change of governance data. Each service is keyword-only, atomic and audited."""
