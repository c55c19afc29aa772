-- Computed columns PostGraphile needs for the seat figures, applied by bench/compare.py to
-- the bench database only (never a migration). They compute what resolvers/accounts.py and
-- billing/seats.py compute: the namespace's subscription in force, and its seat figures.

-- The subscription in force: the active one, else the latest (resolvers/loaders.py).
CREATE OR REPLACE FUNCTION namespace_current_subscription(n namespace) RETURNS subscription
LANGUAGE sql STABLE AS $$
  SELECT * FROM subscription s WHERE s.namespace_id = n.id
  ORDER BY (s.status = 'active') DESC, s.id DESC LIMIT 1
$$;

-- Billable users now: the namespace's count, or what the instance last reported.
CREATE OR REPLACE FUNCTION subscription_seats_in_use(s subscription) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN s.namespace_id IS NOT NULL
              THEN (SELECT seats_in_use FROM namespace WHERE id = s.namespace_id)
              ELSE (SELECT seats_in_use FROM instance WHERE id = s.instance_id) END
$$;

-- maxSeatsUsed never reads below seatsInUse (billing.seats.seat_figures).
CREATE OR REPLACE FUNCTION subscription_peak_seats(s subscription) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT greatest(s.max_seats_used, subscription_seats_in_use(s))
$$;

-- max(0, peak - seats) on paid plans, 0 on free plans and trials; null without a count.
CREATE OR REPLACE FUNCTION subscription_seats_owed(s subscription) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN subscription_seats_in_use(s) IS NULL THEN NULL
              WHEN s.trial OR p.code = 'free' THEN 0
              ELSE greatest(0, subscription_peak_seats(s) - s.seats) END
  FROM plan p WHERE p.id = s.plan_id
$$;
