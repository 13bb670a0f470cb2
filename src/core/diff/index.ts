// Semantic diff (SPEC §4): compare two parsed records at BF/SF/PF, summarize, and render canonical text.
export * from './types.js';
export { compareRecords, compareBf, comparePackages, compareFindings, compareVex, compareVerdicts, severityRank } from './compare.js';
export { sbomModel, findingsModel, vexModel, verdictModel, packageKey, findingKey } from './model.js';
export { diffLeaves, type LeafDiff } from './leaves.js';
export { buildDiffSummary, DIFF_SUMMARY_VERSION, TOP_N, type DiffSummaryV1, type SummaryItem } from './summary.js';
