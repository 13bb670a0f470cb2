export * from './plan.js';
export * from './report.js';
export * from './canary.js';
