export * from './prometheus.js';
export * from './badge.js';
export * from './ticket.js';
