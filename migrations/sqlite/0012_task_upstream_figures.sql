-- What EvoLink itself reported for a task, in micro-credits, next to Kinema's own figures
-- (cost_reserved, cost_final): its reservation (usage.credits_reserved) and, when reported, its
-- charge. NULL when the upstream did not say. A difference beyond a rounding step is shown to
-- admins on the team usage page, so a stale price table is visible at once.
ALTER TABLE tasks ADD COLUMN upstream_reserved BIGINT;
ALTER TABLE tasks ADD COLUMN upstream_charged BIGINT;
