// The one model of a scan or replay record: identity, the what-if codec, the effective manifest,
// outputs, and the pure assembly of a replay record.
export { replayIdOf, scanIdOf } from './identity.js';
export { effectiveManifest, modeOf, parseWhatIf, whatIfOfMode, whatIfText, type EnvWhatIfKey, type WhatIf, type WhatIfKey } from './what-if.js';
export { computeOutputs } from './outputs.js';
export { buildReplayRecord, compareOutputs, specOrder, type ClassifiedFields, type OutputsComparison, type ReplayRecordInput } from './build.js';
