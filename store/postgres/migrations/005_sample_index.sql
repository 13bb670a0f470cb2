-- The sampler reads the window's scans (created_at, scan_id and the four stratum labels) from this
-- index alone (an index-only scan) instead of the whole scan_manifests heap: same name and leading
-- columns as before, the labels carried as INCLUDE columns.
DROP INDEX scan_manifests_created;
CREATE INDEX scan_manifests_created ON scan_manifests (created_at, scan_id) INCLUDE (ecosystem, base_os, regulated, scanner_version);
