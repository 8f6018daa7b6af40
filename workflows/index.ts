/** The workflow bundle's entry: every workflow type the worker registers. */
export { trainingRun } from './training-run.js';
export { sweep } from './sweep.js';
export { preferenceRun } from './preference-run.js';
export { criticalModelRun } from './critical-model-run.js';
