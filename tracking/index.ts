/** Experiment tracking: TensorBoard event files and MLflow runs, fed from each run's metrics.jsonl. */
export { TRACKER_NAMES, type TrackerName } from './names.js';
export { parseTrackerList, readTrackerState, TrackingHub, type TrackerState, type TrackingOptions } from './sync.js';
export { trackingInterceptor } from './interceptor.js';
export { readTrackingStatus, trackingStatusLines } from './status.js';
export { tensorboardRoot } from './tensorboard.js';
