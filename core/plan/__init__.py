"""A validated ruleset compiled into a plan: each kind's logic as IR, the reasons it gives, lookups and what it needs of orders.  Nothing here runs customers."""
