// The simnas pipeline, the one place the end-to-end flow is written, in stages: the main job's
// measurement (main-job), the device (device), adaptation (adapt), the search problem (problem),
// the strategy (strategy), verification (verify) and the whole search job (search). Front ends
// (the CLI, the action) import from here, turn their arguments into options and print or publish
// the results.
export * from './adapt.js';
export * from './device.js';
export * from './main-job.js';
export * from './problem.js';
export * from './search.js';
export * from './strategy.js';
export * from './types.js';
export * from './verify.js';
