"""Computing-power vouchers: programs, grants, subsidies at settlement, anti-abuse."""
