-- The sampler reads the window's scans (created_at, scan_id and the four stratum labels) from these
-- indexes alone (index-only scans) instead of the whole scan_manifests heap. They split the scans by
-- whether created_at is shaped (src/core/sample SampleBounds: `YYYY-MM-DDT…Z`, 20 characters or more),
-- so the sampler's query takes that test from the index's predicate instead of computing it for every
-- scan of the window; the expression is the query's, term for term (store/postgres/pg-store.ts).
CREATE INDEX scan_manifests_sample_shaped ON scan_manifests (created_at, scan_id) INCLUDE (ecosystem, base_os, regulated, scanner_version)
  WHERE (created_at LIKE '____-__-__T%Z' AND length(created_at) >= 20 AND translate(left(created_at, 10), '0123456789', '') = '--');
CREATE INDEX scan_manifests_sample_other ON scan_manifests (created_at, scan_id) INCLUDE (ecosystem, base_os, regulated, scanner_version)
  WHERE NOT (created_at LIKE '____-__-__T%Z' AND length(created_at) >= 20 AND translate(left(created_at, 10), '0123456789', '') = '--');
